package web

// Tests hash with a small argon2id cost: under the race detector the real cost (19 MiB, two
// passes) makes each sign-in take seconds. The hashes still go through the same code.
func init() { argonMemoryKiB, argonTime = 1024, 1 }
