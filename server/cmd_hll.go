package server

// registerHLL registers the hll family.
func registerHLL(r *Registry) {}
