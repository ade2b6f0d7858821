package integration

import (
	"testing"

	"github.com/teamusers/usersapi/internal/usecase/storetest"
)

// The DynamoDB store keeps the contract the use cases rely on: the same
// suite the in-memory store passes in make unit.
func TestTheStoreKeepsTheContract(t *testing.T) {
	storetest.Run(t, stack.Store)
}
