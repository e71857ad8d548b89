package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

// Default RTP port range. RTP takes even ports; the odd port above each is left for RTCP.
const (
	DefaultPortMin = 10000
	DefaultPortMax = 20000
)

// ErrPortsExhausted is returned when every port of the pool is in use (or taken by another
// process). The call engine should refuse the call (SIP 503) rather than retry at once.
var ErrPortsExhausted = errors.New("media: no free RTP port in the pool")

// PortPool hands out even UDP ports from a range, one per session. Released ports go to the
// back of the queue so that a port is not reused while stray packets of its last call may
// still be arriving.
type PortPool struct {
	min, max int

	mu    sync.Mutex
	free  []int // FIFO of free even ports
	inUse map[int]bool
}

// NewPortPool returns a pool of the even ports in [min, max]; min 0 and max 0 mean the
// default range 10000-20000.
func NewPortPool(min, max int) (*PortPool, error) {
	if min == 0 && max == 0 {
		min, max = DefaultPortMin, DefaultPortMax
	}
	if min < 1024 || max > 65534 || min > max {
		return nil, fmt.Errorf("media: RTP port range %d-%d is invalid: want 1024 <= min <= max <= 65534", min, max)
	}
	p := &PortPool{min: min, max: max, inUse: map[int]bool{}}
	for port := min + min%2; port <= max; port += 2 {
		p.free = append(p.free, port)
	}
	if len(p.free) == 0 {
		return nil, fmt.Errorf("media: RTP port range %d-%d holds no even port", min, max)
	}
	return p, nil
}

// Size is the number of ports the pool manages.
func (p *PortPool) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free) + len(p.inUse)
}

// InUse is the number of ports currently held by sessions.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}

// listen binds a UDP socket on ip and a free port of the pool. Ports another process holds
// are skipped (and put back for later); when none can be bound it returns ErrPortsExhausted.
// Any other bind failure (an address that is not ours) is returned as it is.
func (p *PortPool) listen(ip netip.Addr) (*net.UDPConn, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range len(p.free) {
		port := p.free[0]
		p.free = p.free[1:]
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if errors.Is(err, syscall.EADDRINUSE) {
			p.free = append(p.free, port) // another process has it; try it again later
			continue
		}
		if err != nil {
			p.free = append([]int{port}, p.free...)
			return nil, 0, fmt.Errorf("media: bind an RTP socket on %s: %w", ip, err)
		}
		p.inUse[port] = true
		return conn, port, nil
	}
	return nil, 0, ErrPortsExhausted
}

// release returns a port to the back of the queue.
func (p *PortPool) release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inUse[port] {
		return
	}
	delete(p.inUse, port)
	p.free = append(p.free, port)
}
