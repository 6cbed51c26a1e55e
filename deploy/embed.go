// Package deploy holds the files an installation needs besides the binary, embedded so that
// `portier install-service` can write them.
package deploy

import _ "embed"

// Unit is the systemd unit (deploy/portier.service) for user portier and data folder /var/lib/portier.
//
//go:embed portier.service
var Unit string
