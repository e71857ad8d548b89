package media_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"switchboard/media"
)

// Reading a phone's offer and answering it; an offer we cannot carry is answered 488.
func ExampleParseSDP() {
	offer := strings.Join([]string{
		"v=0",
		"o=- 20063 20063 IN IP4 192.0.2.10",
		"s=-",
		"c=IN IP4 192.0.2.10",
		"t=0 0",
		"m=audio 11796 RTP/AVP 18 8 0 101",
		"a=rtpmap:18 G729/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=sendonly",
		"",
	}, "\r\n")
	remote, err := media.ParseSDP([]byte(offer))
	if errors.Is(err, media.ErrNoCommonCodec) {
		fmt.Println("488 Not Acceptable Here")
		return
	}
	if err != nil {
		fmt.Println("400 Bad Request:", err)
		return
	}
	fmt.Println("send to", remote.Addr, "codec", remote.Codec, "events on", remote.TelephoneEvent, "hold", remote.OnHold())

	answer, _ := remote.Answer(netip.MustParseAddrPort("203.0.113.5:10002"), media.Origin{SessionID: 1, Version: 1})
	for _, line := range strings.Split(string(answer), "\r\n") {
		if strings.HasPrefix(line, "m=") || strings.HasPrefix(line, "a=") {
			fmt.Println(line)
		}
	}
	// Output:
	// send to 192.0.2.10:11796 codec PCMA/8 events on 101 hold true
	// m=audio 10002 RTP/AVP 8 101
	// a=rtpmap:8 PCMA/8000
	// a=rtpmap:101 telephone-event/8000
	// a=fmtp:101 0-16
	// a=ptime:20
	// a=recvonly
}
