package server

// registerCommand registers the command family.
func registerCommand(r *Registry) {}
