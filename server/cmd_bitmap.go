package server

// registerBitmap registers the bitmap family.
func registerBitmap(r *Registry) {}
