package devstack

import (
	"littleecom.io/littleecom/internal/loopback"
)

// servicePorts are a service's HTTP and management ports, bound by the runner and handed to
// each process it starts for the service (loopback.Listeners): nothing can take them between
// picking and binding, and a restarted service gets the same addresses back.
type servicePorts struct {
	listeners      loopback.Listeners
	addr, mgmtAddr string
}

// openServicePorts binds two free loopback ports for a service.
func openServicePorts() (*servicePorts, error) {
	p := &servicePorts{}
	var err error
	if p.addr, err = p.listeners.Open(); err == nil {
		p.mgmtAddr, err = p.listeners.Open()
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// close releases the runner's copies of the sockets, once no process will be started on them.
func (p *servicePorts) close() {
	if p != nil {
		_ = p.listeners.Close()
	}
}
