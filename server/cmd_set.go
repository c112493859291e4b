package server

// registerSet registers the set family.
func registerSet(r *Registry) {}
