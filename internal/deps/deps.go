// Package deps pins modules that several packages are about to use, so that parallel work
// shares one go.mod. It is removed once every module has a real importer.
package deps

import (
	_ "github.com/FerretDB/FerretDB/ferretdb"
	_ "github.com/emersion/go-smtp"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/rabbitmq/amqp091-go"
	_ "go.mongodb.org/mongo-driver/v2/mongo"
	_ "golang.org/x/crypto/bcrypt"
	_ "sigs.k8s.io/gateway-api/apis/v1"
	_ "sigs.k8s.io/yaml"
)
