package pbx

import "switchboard/sip"

// Busy lamps (RFC 4235) watch users' dialogs: every leg to or from one of a user's phones
// is one, reported to the SIP core's busy lamp hub (sip.Server.PublishDialog) as it starts
// ringing (early), is answered (confirmed) and ends (terminated). The engine reports legs,
// not calls, so whatever creates or ends a leg — forking, queues, transfers, pickup — keeps
// the lamps right without knowing about them.

// lampRank orders a leg's lamp states: a leg only moves forward, so a late 180 racing
// the answer, or a close racing a hangup, cannot turn a lamp back.
var lampRank = map[sip.DialogState]int{"": 0, sip.DialogEarly: 1, sip.DialogConfirmed: 2, sip.DialogTerminated: 3}

// light reports the leg's dialog in state to busy lamps; a leg of no user (a trunk's) and
// a step backwards are ignored, and a leg that never lit ends unreported.
func (l *leg) light(state sip.DialogState) {
	if l.userID == 0 || l.c == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if lampRank[state] <= lampRank[l.lamp] || state == sip.DialogTerminated && l.lamp == "" {
		return
	}
	l.lamp = state
	// The hub's lock is a leaf and it never waits on the network: safe under l.mu.
	l.c.e.sip.PublishDialog(l.userDialog(state))
}

// userDialog describes the leg as its user's dialog: the caller's leg (a UAS dialog) is
// the user's outgoing call to what they dialled; a dialled leg is a call to the user's
// phone from what that phone is shown.
func (l *leg) userDialog(state sip.DialogState) sip.UserDialog {
	d := sip.UserDialog{AccountID: l.c.accountID, UserID: l.userID, State: state}
	switch {
	case l.uas != nil:
		d.Initiator, d.Remote = true, l.c.to
		if id := l.uas.InviteRequest.CallID(); id != nil {
			d.CallID = id.Value()
		}
	case l.uac != nil:
		if id := l.uac.InviteRequest.CallID(); id != nil {
			d.CallID = id.Value()
		}
		if f := l.uac.InviteRequest.From(); f != nil {
			d.Remote, d.RemoteName = f.Address.User, f.DisplayName
		}
	}
	d.ID = d.CallID
	return d
}
