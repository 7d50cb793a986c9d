package resource

// rmqTestUsers are credentials as the reconciler would read them from their Secrets.
func rmqTestUsers() RabbitMQUsers {
	return RabbitMQUsers{
		Admin:    Credentials{Username: "admin", Password: "AdminPassw0rdAdminPassw0rdAdminPa"},
		Backend:  Credentials{Username: "backend", Password: "BackendSecretBackendSecretBackend"},
		Notifier: Credentials{Username: "notifier", Password: "NotifierSecretNotifierSecretNotif"},
	}
}
