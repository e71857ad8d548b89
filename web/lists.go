package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"switchboard"
)

// The account's other resources are shown as simple lists read from the store; they are
// changed through the API (each page links its reference) until they get forms here.

type cell struct{ Text, Href string }

type listData struct {
	Headers []string
	Rows    [][]cell
	IDs     []int64 // each row's id, for its delete form (when DeletePath is set)
	// Form is the page's create form; DeletePath+"/{id}/delete" deletes a row.
	Form       *listForm
	DeletePath string
	Note       string
	DocsTag    string
	Audio      bool // the last cell is an audio link to play inline
}

func txt(s string) cell { return cell{Text: s} }
func num(i int) cell    { return cell{Text: strconv.Itoa(i)} }

func target(t switchboard.Target) cell {
	switch {
	case t.Type == "":
		return txt("—")
	case t.Number != "":
		return txt(string(t.Type) + " " + t.Number)
	default:
		return txt(fmt.Sprintf("%s #%d", t.Type, t.ID))
	}
}

// pageAll reads every page of a paged store list.
func pageAll[T any](ctx context.Context, accountID int64, fn func(context.Context, int64, switchboard.Page) ([]T, bool, error)) ([]T, error) {
	var all []T
	p := switchboard.Page{Limit: 200}
	for {
		items, more, err := fn(ctx, accountID, p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if !more || len(items) == 0 {
			return all, nil
		}
		p.Offset += len(items)
	}
}

type lister func(ctx context.Context, accountID int64) (listData, error)

func (h *Handler) listPage(title string, fn lister) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		d, err := fn(r.Context(), s.Login.AccountID)
		if err != nil {
			h.fail(w, r, "error", page{Title: title, S: s}, err)
			return
		}
		h.render(w, r, http.StatusOK, "list", page{Title: title, S: s, Data: d})
	}
}

func (h *Handler) numbersList(ctx context.Context, a int64) (listData, error) {
	ns, err := h.store.ListNumbers(ctx, a, switchboard.NumberFilter{})
	d := listData{Headers: []string{"Number", "Name", "Status", "Routes to", "SMS"}}
	for _, n := range ns {
		sms := ""
		if n.SMSEnabled {
			sms = "yes"
		}
		d.IDs = append(d.IDs, n.ID)
		d.Rows = append(d.Rows, []cell{txt(n.Number), txt(n.FriendlyName), txt(n.Status), target(n.Target), txt(sms)})
	}
	return d, err
}

func (h *Handler) queuesList(ctx context.Context, a int64) (listData, error) {
	qs, err := h.store.ListQueues(ctx, a)
	d := listData{Headers: []string{"Queue", "Extension", "Strategy", "Members", "Waiting now", "Agents available"}}
	for _, q := range qs {
		members, merr := h.store.ListQueueMembers(ctx, a, q.ID)
		if merr != nil {
			return d, merr
		}
		st := h.live.QueueStats(a, q.ID)
		d.IDs = append(d.IDs, q.ID)
		d.Rows = append(d.Rows, []cell{{Text: q.QueueName, Href: idPath("/queues", q.ID)}, txt(q.Extension), txt(string(q.Strategy)), num(len(members)),
			num(st.CallersWaiting), num(st.AgentsAvailable)})
	}
	return d, err
}

func (h *Handler) ringGroupsList(ctx context.Context, a int64) (listData, error) {
	gs, err := h.store.ListRingGroups(ctx, a)
	d := listData{Headers: []string{"Ring group", "Extension", "Strategy", "Members", "Ring time", "Then"}}
	for _, g := range gs {
		d.IDs = append(d.IDs, g.ID)
		d.Rows = append(d.Rows, []cell{{Text: g.Name, Href: idPath("/ring-groups", g.ID)}, txt(g.Extension), txt(string(g.Strategy)), num(len(g.Members)),
			txt(strconv.Itoa(g.RingTime) + " s"), target(g.Fallback)})
	}
	return d, err
}

func (h *Handler) trunksList(ctx context.Context, a int64) (listData, error) {
	ts, err := h.store.ListTrunks(ctx, a)
	d := listData{Headers: []string{"Trunk", "Host", "Transport", "Username", "Caller ID", "Trusted addresses"}}
	for _, t := range ts {
		d.IDs = append(d.IDs, t.ID)
		d.Rows = append(d.Rows, []cell{{Text: t.Name, Href: idPath("/trunks", t.ID)}, txt(fmt.Sprintf("%s:%d", t.Host, t.Port)), txt(t.Transport), txt(t.Username),
			txt(t.CallerIDNumber), txt(strings.Join(t.InboundAddresses, ", "))})
	}
	return d, err
}

func (h *Handler) contactsList(ctx context.Context, a int64) (listData, error) {
	cs, err := h.store.ListContacts(ctx, a)
	d := listData{Headers: []string{"Name", "Phone", "Email", "Company"}}
	for _, c := range cs {
		d.IDs = append(d.IDs, c.ID)
		d.Rows = append(d.Rows, []cell{txt(c.FirstName + " " + c.LastName), txt(c.Phone), txt(c.Email), txt(c.Company)})
	}
	return d, err
}

// musicList shows the account's uploaded music classes; "default" plays generated tones
// until one of that name is uploaded.
func (h *Handler) musicList(ctx context.Context, a int64) (listData, error) {
	ms, err := pageAll(ctx, a, h.store.PageMusicClasses)
	d := listData{Headers: []string{"Class", "Uploaded as", "Seconds", "Updated"},
		Note: "Queues name a class as their music on hold; the class “default” plays generated tones until music of that name is uploaded. " +
			"Music is uploaded (WAV or MP3) through the API."}
	for _, m := range ms {
		d.IDs = append(d.IDs, m.ID)
		d.Rows = append(d.Rows, []cell{txt(m.Name), txt(m.Format), txt(fmt.Sprintf("%.0f", m.Duration().Seconds())), txt(when(m.UpdatedAt))})
	}
	return d, err
}

func (h *Handler) callFlowsList(ctx context.Context, a int64) (listData, error) {
	fs, err := pageAll(ctx, a, h.store.PageCallFlows)
	d := listData{Headers: []string{"Call flow", "Start node", "Nodes", "Updated"}}
	for _, f := range fs {
		d.Rows = append(d.Rows, []cell{txt(f.Name), txt(f.Start), num(len(f.Nodes)), txt(when(f.UpdatedAt))})
	}
	return d, err
}

func (h *Handler) promptsList(ctx context.Context, a int64) (listData, error) {
	ps, err := pageAll(ctx, a, h.store.PagePrompts)
	d := listData{Headers: []string{"Prompt", "Source", "Language", "Text", "Seconds"}}
	for _, p := range ps {
		d.Rows = append(d.Rows, []cell{txt(p.Name), txt(p.Source), txt(p.Language), txt(p.Text), txt(fmt.Sprintf("%.1f", float64(p.Samples)/8000))})
	}
	return d, err
}

func (h *Handler) conferencesList(ctx context.Context, a int64) (listData, error) {
	rs, err := pageAll(ctx, a, h.store.PageConferenceRooms)
	d := listData{Headers: []string{"Room", "Extension", "Max participants", "PIN", "Mute on join"}}
	for _, c := range rs {
		pin, mute := "no", "no"
		if c.PINHash != "" {
			pin = "yes"
		}
		if c.MuteOnJoin {
			mute = "yes"
		}
		d.Rows = append(d.Rows, []cell{txt(c.Name), txt(c.Extension), num(c.MaxParticipants), txt(pin), txt(mute)})
	}
	return d, err
}

// voicemailList shows the account's (or, for a user, their own box's) messages, each
// playable inline from /voicemail/{id}/audio.
func (h *Handler) voicemailPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, a := r.Context(), s.Login.AccountID
	d := listData{Headers: []string{"Box", "From", "When", "Seconds", "New", "Listen"}, Audio: true}
	boxes, err := pageAll(ctx, a, h.store.PageVoicemailBoxes)
	for _, b := range boxes {
		if err != nil {
			break
		}
		if !s.Admin() && b.UserID != s.Login.UserID {
			continue
		}
		var msgs []*switchboard.VoicemailMessage
		msgs, _, err = h.store.PageVoicemailMessages(ctx, a, switchboard.VoicemailFilter{BoxID: b.ID}, switchboard.Page{Limit: 200})
		for _, m := range msgs {
			isNew := ""
			if !m.Read {
				isNew = "new"
			}
			d.Rows = append(d.Rows, []cell{txt(b.Name), txt(m.From + " " + m.CallerName), txt(when(m.CreatedAt)),
				txt(fmt.Sprintf("%.0f", float64(m.DurationMS)/1000)), txt(isNew), {Text: "Play", Href: "/voicemail/" + strconv.FormatInt(m.ID, 10) + "/audio"}})
		}
	}
	if err != nil {
		h.fail(w, r, "error", page{Title: "Voicemail", S: s}, err)
		return
	}
	h.render(w, r, http.StatusOK, "list", page{Title: "Voicemail", S: s, Data: d})
}

// voicemailAudio plays a message: an administrator any of the account's, a user their own.
func (h *Handler) voicemailAudio(w http.ResponseWriter, r *http.Request, s *session) {
	m, audio, _, err := h.provision.OpenVoicemailAudio(r.Context(), s.Login.AccountID, pathID(r, "id"))
	if err == nil && !s.Admin() {
		var box *switchboard.VoicemailBox
		if box, err = h.provision.UserVoicemailBox(r.Context(), s.Login.AccountID, s.Login.UserID); err == nil && box.ID != m.BoxID {
			err = switchboard.Errorf(switchboard.ENOTFOUND, "No such message")
		}
		if err != nil {
			audio.Close()
		}
	}
	if err != nil {
		h.fail(w, r, "error", page{Title: "Voicemail", S: s}, err)
		return
	}
	defer audio.Close()
	w.Header().Set("Content-Type", "audio/wav")
	http.ServeContent(w, r, "", m.CreatedAt, audio) // with Range, so that the player can seek
}
