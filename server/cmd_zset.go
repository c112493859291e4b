package server

// registerZSet registers the zset family.
func registerZSet(r *Registry) {}
