// Package delivery is how an email gets out: the outbox deliverer that
// sends the emails the table's stream brings (a lease per email, never
// sent twice, paced at the account's send rate across every instance),
// the SES v2 sender and its error classes, and the handler of SES's
// bounce and complaint events. What an email says is internal/emails'.
// It reads the table only through its interfaces (Outbox, EventStore,
// report.Source); the mains build it.
package delivery
