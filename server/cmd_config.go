package server

// registerConfig registers the config family.
func registerConfig(r *Registry) {}
