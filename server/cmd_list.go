package server

// registerList registers the list family.
func registerList(r *Registry) {}
