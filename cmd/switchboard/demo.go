package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"switchboard"
	"switchboard/web"
)

// DemoAccountID is the account id the providers' documents use in their examples, so their
// snippets run against a demo server unchanged.
const DemoAccountID = 61

// demoFile is what `serve --demo` writes to DATA/demo.json: everything a newcomer needs to
// call the API and register a softphone. Keys and SIP passwords are stored only hashed, so
// this file is the one place they can be read again; it is written once, mode 0600.
type demoFile struct {
	AccountID    int64           `json:"account_id"`
	DeveloperKey string          `json:"developer_key"`
	Users        []demoUser      `json:"users"`
	Queues       []demoQueue     `json:"queues"`
	RingGroups   []demoRingGroup `json:"ring_groups"`
	Numbers      []demoNumber    `json:"numbers"`
	// The portal's administrator sign-in (web/): login and password.
	PortalLogin    string `json:"portal_login,omitempty"`
	PortalPassword string `json:"portal_password,omitempty"`
}

type demoUser struct {
	PK          int64  `json:"pk"`
	Extension   string `json:"extension"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	UserKey     string `json:"user_key"`
	SIPUsername string `json:"sip_username"`
	SIPPassword string `json:"sip_password"`
}

type demoQueue struct {
	PK        int64  `json:"pk"`
	QueueName string `json:"queue_name"`
	Extension string `json:"extension"`
	Strategy  string `json:"strategy"`
}

type demoRingGroup struct {
	PK        int64  `json:"pk"`
	Name      string `json:"name"`
	Extension string `json:"extension"`
}

type demoNumber struct {
	PK           int64  `json:"pk"`
	Number       string `json:"number"`
	FriendlyName string `json:"friendly_name"`
	SMSEnabled   bool   `json:"sms_enabled"`
	MMSEnabled   bool   `json:"mms_enabled"`
}

// seedDemo fills an empty database with the documents' example account, unless account 61
// exists already (a restart on the same data keeps everything and leaves demo.json alone).
// It returns the demo file, read back from disk when the data was seeded earlier.
func seedDemo(ctx context.Context, st switchboard.Store, dataDir string) (*demoFile, error) {
	path := filepath.Join(dataDir, "demo.json")
	if _, err := st.GetAccount(ctx, DemoAccountID); err == nil {
		return readDemoFile(path)
	} else if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		return nil, err
	}

	demo := &demoFile{AccountID: DemoAccountID}
	if err := st.CreateAccount(ctx, &switchboard.Account{ID: DemoAccountID, Name: "Demo Company", PublicEndpoints: true}); err != nil {
		return nil, err
	}
	people := []switchboard.User{
		{Extension: "1001", FirstName: "John", LastName: "Smith", Email: "john.smith@company.com", TimeZone: "America/New_York", VoicemailEnabled: true},
		{Extension: "1002", FirstName: "Jane", LastName: "Doe", Email: "jane.doe@company.com", TimeZone: "America/Chicago", VoicemailEnabled: true},
		{Extension: "1003", FirstName: "Bob", LastName: "Wilson", Email: "bob.wilson@company.com", TimeZone: "Europe/London"},
	}
	users := make([]*switchboard.User, len(people))
	for i := range people {
		u := people[i]
		u.AccountID = DemoAccountID
		u.RingTimeSeconds = 30
		if err := st.CreateUser(ctx, &u); err != nil {
			return nil, fmt.Errorf("demo user %s: %w", u.Extension, err)
		}
		users[i] = &u
		password := switchboard.NewSIPPassword()
		d := &switchboard.Device{AccountID: DemoAccountID, UserID: u.ID, Name: "Softphone", SIPUsername: u.Extension}
		d.SetSIPPassword(password)
		if err := st.CreateDevice(ctx, d); err != nil {
			return nil, fmt.Errorf("demo device %s: %w", d.SIPUsername, err)
		}
		key, k := switchboard.NewAPIKey(switchboard.KeyUser)
		k.AccountID, k.UserID, k.Name = DemoAccountID, u.ID, "demo user key "+u.Extension
		if err := st.CreateAPIKey(ctx, k); err != nil {
			return nil, err
		}
		demo.Users = append(demo.Users, demoUser{PK: u.ID, Extension: u.Extension, Name: u.DisplayName(),
			Email: u.Email, UserKey: key, SIPUsername: d.SIPUsername, SIPPassword: password})
	}
	key, k := switchboard.NewAPIKey(switchboard.KeyDeveloper)
	k.AccountID, k.Name = DemoAccountID, "demo developer key"
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	demo.DeveloperKey = key

	queues := []struct {
		q       switchboard.Queue
		members []*switchboard.User
	}{
		{switchboard.Queue{QueueName: "Sales Queue", Extension: "8001", Strategy: switchboard.StrategyRingAll, Timeout: 20, Retry: 5, WrapUpTime: 10}, users[:2]},
		{switchboard.Queue{QueueName: "Support Queue", Extension: "8002", Strategy: switchboard.StrategyFewestCalls, Timeout: 30, Retry: 5, WrapUpTime: 10}, users[1:]},
	}
	queueIDs := map[string]int64{}
	for _, spec := range queues {
		q := spec.q
		q.AccountID = DemoAccountID
		q.ApplyDefaults()
		if err := st.CreateQueue(ctx, &q); err != nil {
			return nil, fmt.Errorf("demo queue %s: %w", q.QueueName, err)
		}
		queueIDs[q.QueueName] = q.ID
		for _, u := range spec.members {
			if err := st.SetQueueMember(ctx, DemoAccountID, switchboard.QueueMember{QueueID: q.ID, UserID: u.ID}); err != nil {
				return nil, err
			}
		}
		demo.Queues = append(demo.Queues, demoQueue{PK: q.ID, QueueName: q.QueueName, Extension: q.Extension, Strategy: string(q.Strategy)})
	}

	group := &switchboard.RingGroup{AccountID: DemoAccountID, Name: "Front Desk", Extension: "8100",
		Strategy: switchboard.RingSimultaneous, RingTime: 20,
		Fallback: switchboard.Target{Type: switchboard.TargetQueue, ID: queueIDs["Sales Queue"]}}
	for _, u := range users {
		group.Members = append(group.Members, switchboard.RingGroupMember{UserID: u.ID})
	}
	if err := st.CreateRingGroup(ctx, group); err != nil {
		return nil, fmt.Errorf("demo ring group: %w", err)
	}
	demo.RingGroups = append(demo.RingGroups, demoRingGroup{PK: group.ID, Name: group.Name, Extension: group.Extension})

	// The numbers of the documents' examples. John Smith (1001) owns the main line and is the
	// SMS user of the support line, so /user/numbers with his key shows both, as the seed does.
	numbers := []switchboard.Number{
		{Number: "+15551234567", FriendlyName: "Main Business Line", SMSEnabled: true, MMSEnabled: true,
			OwnerUserID: users[0].ID, Target: switchboard.Target{Type: switchboard.TargetRingGroup, ID: group.ID}},
		{Number: "+15559876543", FriendlyName: "Support Line", SMSEnabled: true, SMSAssignedUserID: users[0].ID,
			Target: switchboard.Target{Type: switchboard.TargetQueue, ID: queueIDs["Support Queue"]}},
		{Number: "+15551112222", FriendlyName: "AI Agent Line", AIAgentID: "ai_agent_demo",
			Target: switchboard.Target{Type: switchboard.TargetUser, ID: users[2].ID}},
	}
	for i := range numbers {
		n := numbers[i]
		n.AccountID, n.Status = DemoAccountID, "active"
		if err := st.CreateNumber(ctx, &n); err != nil {
			return nil, fmt.Errorf("demo number %s: %w", n.Number, err)
		}
		demo.Numbers = append(demo.Numbers, demoNumber{PK: n.ID, Number: n.Number, FriendlyName: n.FriendlyName,
			SMSEnabled: n.SMSEnabled, MMSEnabled: n.MMSEnabled})
	}

	if ps, ok := st.(switchboard.PortalStore); ok {
		_, password, err := web.Logins{Store: ps}.Create(ctx, DemoAccountID, "admin@demo", switchboard.PortalAdmin, 0, "")
		if err != nil {
			return nil, fmt.Errorf("demo portal login: %w", err)
		}
		demo.PortalLogin, demo.PortalPassword = "admin@demo", password
	}

	b, err := json.MarshalIndent(demo, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return demo, nil
}

func readDemoFile(path string) (*demoFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // seeded earlier, file removed by the operator: nothing to show
	} else if err != nil {
		return nil, err
	}
	var d demoFile
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &d, nil
}

// printDemoSummary tells a newcomer what they can do with the demo right now.
func printDemoSummary(w io.Writer, d *demoFile, dataDir, baseURL string) {
	if d == nil {
		fmt.Fprintf(w, "demo: account %d exists; %s is gone, so its keys can't be shown again\n", DemoAccountID, filepath.Join(dataDir, "demo.json"))
		return
	}
	fmt.Fprintf(w, "\nDemo account %d is ready (all of it is in %s).\n", d.AccountID, filepath.Join(dataDir, "demo.json"))
	fmt.Fprintf(w, "  developer key: %s\n", d.DeveloperKey)
	for _, u := range d.Users {
		fmt.Fprintf(w, "  %s %-12s user key %s  SIP %s / %s\n", u.Extension, u.Name, u.UserKey, u.SIPUsername, u.SIPPassword)
	}
	fmt.Fprintf(w, "\nTry:\n  curl -H 'X-API-Key: %s' %s/v3/voice/%d/availability\n", d.DeveloperKey, baseURL, d.AccountID)
	if d.PortalLogin != "" {
		fmt.Fprintf(w, "Portal: %s/  sign in as %s, password %s\n", baseURL, d.PortalLogin, d.PortalPassword)
	}
	fmt.Fprintf(w, "API reference: %s/docs\n\n", baseURL)
}
