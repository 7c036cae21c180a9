package adminapi

import "golang.org/x/crypto/bcrypt"

// Passwords set in tests are hashed at bcrypt's lowest cost: the default
// takes a second under the race detector, and fuzzing would do little else.
func init() { passwordCost = bcrypt.MinCost }
