package api

import (
	"context"
	"net/http"

	"switchboard"
	"switchboard/phone"
)

// The v3 routes that reach outside: placing a call and sending an SMS. Unlike other routes
// they declare no route.Needs: they validate the request in full before they ask
// unavailable for the service, so that a client hears of a bad request even while the
// server has none (the seed's order: 400 before 503).

const maxCRMIDLength = 128

func (s *Server) placeCall(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body outboundCallJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	ctx := r.Context()
	v := switchboard.ValidationErrors{}
	var fromUser *switchboard.User
	switch {
	case body.From == "":
		v.Add("from", "is required: the extension making the call")
	case !switchboard.ValidExtension(body.From):
		v.Add("from", "must be an extension of 2 to 8 digits")
	default:
		u, err := s.store.GetUserByExtension(ctx, c.accountID, body.From)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			v.Add("from", "is not the extension of a user of this account")
		} else if err != nil {
			return err
		}
		fromUser = u
	}
	// to is dialled as the user's phone would dial it: digits alone (2 to 8) are an
	// extension of the account (a user, queue or ring group); anything else a phone number.
	to := body.To
	if !switchboard.ValidExtension(to) {
		to = requiredNumber(v, "to", body.To, "the extension or number to call")
	}
	callerID := ""
	if body.CallerID != "" {
		n, err := s.accountNumber(ctx, v, c.accountID, "caller_id", body.CallerID)
		if err != nil {
			return err
		}
		if n != nil {
			callerID = n.Number
		}
	}
	if len(body.CRMID) > maxCRMIDLength {
		v.Add("crm_id", "must be at most 128 characters")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.unavailable(needsCalls); err != nil { // after the request: see the file's comment
		return err
	}
	call, err := s.calls.PlaceCall(ctx, switchboard.OutboundCallRequest{AccountID: c.accountID, FromUser: fromUser,
		To: to, CallerID: callerID, Recording: body.Recording, CRMID: body.CRMID})
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Call initiated successfully", outboundCallResultJSON{CallID: call.CallID,
		Status: call.Status, From: body.From, To: to, Timestamp: s.timestamp()})
	return nil
}

// sendSMS queues an SMS. Every check (the sender number and its owner, the recipient, the
// body as carriers count it, opt-outs) is the SMS service's (sms.Service.SendSMS), which
// answers 400 before it answers 503 for a missing carrier.
func (s *Server) sendSMS(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body smsSendJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if err := s.unavailable(needsSMS); err != nil {
		return err
	}
	msg, err := s.sms.SendSMS(r.Context(), switchboard.SMSRequest{AccountID: c.accountID, FromNumber: body.From,
		To: body.To, Message: body.Message, SentBy: keyUser(c), UserKey: !c.isDeveloper()})
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "SMS sent successfully", smsResultJSON{MessageID: msg.MessageID, Status: msg.Status,
		From: msg.From, To: msg.To, Timestamp: s.timestamp()})
	return nil
}

// requiredNumber reads the phone number raw of field, written in any form, as E.164; what
// is missing or wrong goes to v (missing says what the number is for).
func requiredNumber(v switchboard.ValidationErrors, field, raw, missing string) string {
	n, ok := phone.Normalize(raw)
	if raw == "" {
		v.Add(field, "is required: "+missing)
	} else if !ok {
		v.Add(field, "is not a valid phone number")
	}
	return n
}

// accountNumber returns the account's number that raw writes in any form, or nil with the
// problem added to v when raw is not a phone number or not one of the account's.
func (s *Server) accountNumber(ctx context.Context, v switchboard.ValidationErrors, accountID int64, field, raw string) (*switchboard.Number, error) {
	n, ok := phone.Normalize(raw)
	if !ok {
		v.Add(field, "is not a valid phone number")
		return nil, nil
	}
	numbers, err := s.store.ListNumbers(ctx, accountID, switchboard.NumberFilter{Number: n})
	if err != nil {
		return nil, err
	}
	if len(numbers) == 0 {
		v.Add(field, "must be one of this account's numbers")
		return nil, nil
	}
	return numbers[0], nil
}
