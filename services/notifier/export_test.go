package notifier

// SetHooks lets the external tests stop the notifier right after a claim or a send.
func SetHooks(n *Notifier, afterClaim func(key string) error, afterSend func(key string)) {
	n.hooks = hooks{afterClaim: afterClaim, afterSend: afterSend}
}

// KillConnection closes the live RabbitMQ connection, as a crash or a network cut would:
// unacked messages go back to their queues and the notifier reconnects.
func KillConnection(n *Notifier) {
	if c := n.conn.Load(); c != nil {
		_ = c.Close()
	}
}
