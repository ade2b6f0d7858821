package users

// StoredResponse is the first answer to a request made with an
// Idempotency-Key, replayed to its retries.
type StoredResponse struct {
	Status  int
	Headers map[string]string
	Body    []byte
}
