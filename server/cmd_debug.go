package server

// registerDebug registers the debug family.
func registerDebug(r *Registry) {}
