package server

// registerClient registers the client family.
func registerClient(r *Registry) {}
