package memstore_test

import (
	"testing"

	"github.com/teamusers/usersapi/internal/usecase/memstore"
	"github.com/teamusers/usersapi/internal/usecase/storetest"
)

// The in-memory store keeps the store's contract (the same suite runs on
// the DynamoDB store in tests/integration).
func TestContract(t *testing.T) {
	storetest.Run(t, memstore.New(nil, nil))
}
