package server

// registerServer registers the server family.
func registerServer(r *Registry) {}
