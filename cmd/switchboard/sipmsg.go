package main

import (
	"sync"

	"switchboard"
	"switchboard/sip"
	"switchboard/sms"
	"switchboard/store"
	"switchboard/webhook"
)

// wireSIPMessage connects SIP MESSAGE and the SMS service (docs/sip-message.md): phones'
// MESSAGEs and trunks' inbound ones go to the service, the service reaches phones through
// the SIP server (DeliverToUser), and the "sip" carrier sends over the account's trunk.
func wireSIPMessage(srv *sip.Server, svc *sms.Service, db *store.DB, sealer *webhook.Sealer) {
	if srv == nil || svc == nil {
		return
	}
	srv.SetPhoneSMS(svc)
	srv.SetSMSInbox(svc)
	svc.SetPhoneMessenger(srv)
	trunkCarriers.mu.Lock()
	trunkCarriers.byInbox[svc] = sip.NewTrunkCarrier(srv, db, sealer)
	trunkCarriers.mu.Unlock()
	registerTrunkCarrier.Do(func() {
		sms.Carriers[sip.TrunkCarrierName] = func(cc sms.CarrierConfig) (switchboard.SMSCarrier, error) {
			trunkCarriers.mu.Lock()
			defer trunkCarriers.mu.Unlock()
			if c := trunkCarriers.byInbox[cc.Inbox]; c != nil {
				return c, nil
			}
			return nil, errNoSIPServer
		}
	})
}

// sms.Carriers is one registry for the process, while tests run several servers in it: the
// "sip" factory is registered once and finds the trunk carrier of the service that asks
// (CarrierConfig.Inbox is the service).
var (
	registerTrunkCarrier sync.Once
	trunkCarriers        = struct {
		mu      sync.Mutex
		byInbox map[switchboard.SMSInbox]*sip.TrunkCarrier
	}{byInbox: map[switchboard.SMSInbox]*sip.TrunkCarrier{}}
)

var errNoSIPServer = switchboard.Errorf(switchboard.EUNAVAILABLE, "SIP is not running on this server: the sip carrier cannot send")
