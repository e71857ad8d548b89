package web

import (
	"context"
	"net/http"

	"switchboard"
)

// The Messages page: SMS conversations and recent messages, and a send form, through the
// SMS service, scoped as its API is: an administrator sees the account's messages, a user
// those of the numbers they own or are SMS-assigned to, and sends only from those.

// MessageService is the part of sms.Service the portal uses.
type MessageService interface {
	ListMessages(ctx context.Context, accountID, userID int64, f switchboard.MessageFilter) ([]*switchboard.Message, bool, error)
	Conversations(ctx context.Context, accountID, userID int64, f switchboard.MessageFilter) ([]*switchboard.Conversation, error)
	SendSMS(ctx context.Context, req switchboard.SMSRequest) (*switchboard.SMSMessage, error)
}

type messagesData struct {
	Conversations []*switchboard.Conversation
	Messages      []*switchboard.Message
	More          bool
	From          []*switchboard.Number // the SMS-enabled numbers the session may send from
	Party         string                // the conversation shown ("" = every message)
}

// messagesPageSize bounds the messages listed; older ones are read through the API.
const messagesPageSize = 100

func (h *Handler) messageService() (MessageService, error) {
	if h.messages == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "SMS is not available on this server")
	}
	return h.messages, nil
}

// sessionUser is the user whose view the services give: 0 (everything) for an administrator.
func sessionUser(s *session) int64 {
	if s.Admin() {
		return 0
	}
	return s.Login.UserID
}

func (h *Handler) loadMessages(ctx context.Context, r *http.Request, s *session) (string, any, error) {
	const title = "Messages"
	svc, err := h.messageService()
	if err != nil {
		return title, nil, err
	}
	a, u := s.Login.AccountID, sessionUser(s)
	d := &messagesData{Party: r.URL.Query().Get("party")}
	if d.Conversations, err = svc.Conversations(ctx, a, u, switchboard.MessageFilter{}); err != nil {
		return title, nil, err
	}
	if d.Messages, d.More, err = svc.ListMessages(ctx, a, u, switchboard.MessageFilter{Party: d.Party, Limit: messagesPageSize}); err != nil {
		return title, nil, err
	}
	nf := switchboard.NumberFilter{AssignedToUserID: u}
	nums, err := h.store.ListNumbers(ctx, a, nf)
	for _, n := range nums {
		if n.SMSEnabled {
			d.From = append(d.From, n)
		}
	}
	return title, d, err
}

// messageSend queues an SMS: every check (the sender is the session's, the recipient,
// the body, opt-outs) is the SMS service's.
func (h *Handler) messageSend(w http.ResponseWriter, r *http.Request, s *session) {
	svc, err := h.messageService()
	if err == nil {
		_, err = svc.SendSMS(r.Context(), switchboard.SMSRequest{AccountID: s.Login.AccountID, FromNumber: r.PostForm.Get("from"),
			To: r.PostForm.Get("to"), Message: r.PostForm.Get("message"), SentBy: s.Login.UserID, UserKey: !s.Admin()})
	}
	h.changed(w, r, s, "messages", "/messages", h.loadMessages, err)
}

func (h *Handler) messageRoutes() {
	h.get("/messages", false, h.detailPage("messages", h.loadMessages))
	h.post("/messages", false, h.messageSend)
}
