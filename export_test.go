package blueclerk

// FastRetries makes c's retries wait a millisecond at most instead of the
// SDK's backoff (500 ms doubling, full jitter), so that the tests of package
// blueclerk_test, which run over real sockets against package blueclerktest,
// can meet hundreds of retried faults in seconds. Retry-After waits are
// unchanged.
var FastRetries = fastRetries

// NewDefaultDeliveryStore returns the DeliveryStore a WebhookVerifier uses
// when its Deliveries field is nil, made as the verifier makes it, so that
// package blueclerk_test can run the conformance suite on it.
func NewDefaultDeliveryStore() DeliveryStore {
	return new(WebhookVerifier).deliveries()
}
