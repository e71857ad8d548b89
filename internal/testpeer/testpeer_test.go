package testpeer

import (
	"net"
	"testing"
)

func TestUDPBoundSeesABoundSocket(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if !UDPBound("127.0.0.1", port) {
		t.Fatalf("127.0.0.1:%d is bound, but UDPBound does not see it", port)
	}
	c.Close()
	if UDPBound("127.0.0.1", port) {
		t.Fatalf("127.0.0.1:%d was closed, but UDPBound still sees it", port)
	}
}
