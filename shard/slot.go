package shard

import "github.com/cespare/xxhash/v2"

// NumSlots is the fixed number of slots the keyspace is split into.
const NumSlots = 16384

// HashTag returns the part of key that is hashed: the bytes between the
// first '{' and the next '}' when that is non-empty, else the whole key (the
// Redis Cluster rule).
func HashTag(key []byte) []byte {
	for i, c := range key {
		if c == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j == i+1 {
						return key
					}
					return key[i+1 : j]
				}
			}
			return key
		}
	}
	return key
}

// KeySlot maps a key to its slot: xxhash of its hash tag, modulo NumSlots.
func KeySlot(key []byte) int {
	return int(xxhash.Sum64(HashTag(key)) % NumSlots)
}
