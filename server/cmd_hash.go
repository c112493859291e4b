package server

// registerHash registers the hash family.
func registerHash(r *Registry) {}
