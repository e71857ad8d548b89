package api

import (
	"net/http"

	"switchboard"
)

func (s *Server) ringGroupRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/ring_groups", summary: "List ring groups", message: "List of ring groups", result: []ringGroupJSON{},
			query: pageQuery, serve: listPaged(&s.store, switchboard.Store.PageRingGroups,
				func(g *switchboard.RingGroup) int64 { return g.ID }, toRingGroupJSON)},
		{method: "POST", path: "/ring_groups", summary: "Create a ring group", message: "Ring group created", status: http.StatusCreated,
			request: createBody(ringGroupRequestJSON{}), result: ringGroupJSON{},
			serve: createHandler[ringGroupRequestJSON](&s.provision, ProvisioningService.CreateRingGroup, toRingGroupJSON)},
		{method: "GET", path: "/ring_groups/{ring_group_id}", summary: "Get a ring group", message: "Ring group details", result: ringGroupJSON{},
			serve: getByID(&s.store, "ring_group_id", switchboard.Store.GetRingGroup, toRingGroupJSON)},
		{method: "PATCH", path: "/ring_groups/{ring_group_id}", summary: "Change a ring group (only the fields given; members replaces the list)",
			message: "Ring group updated", request: patchBody(ringGroupRequestJSON{}), result: ringGroupJSON{},
			serve: updateHandler[ringGroupRequestJSON](&s.provision, "ring_group_id", ProvisioningService.UpdateRingGroup, toRingGroupJSON)},
		{method: "DELETE", path: "/ring_groups/{ring_group_id}", summary: "Delete a ring group", message: "Ring group deleted", result: deletedJSON{},
			serve: deleteByID(&s.provision, "ring_group_id", ProvisioningService.DeleteRingGroup)},
	}
}

type ringGroupJSON struct {
	PK        int64                 `json:"pk" doc:"Ring group ID"`
	Name      string                `json:"name" doc:"Name"`
	Extension string                `json:"extension" doc:"Extension number"`
	Strategy  string                `json:"strategy" doc:"simultaneous or sequential"`
	RingTime  int                   `json:"ring_time" doc:"Seconds the group (or each member, sequentially) rings"`
	Members   []ringGroupMemberJSON `json:"members" doc:"Members, in ring order"`
	Fallback  targetJSON            `json:"fallback" doc:"Where the call goes when nobody answers"`
	CreatedAt string                `json:"created_at" doc:"RFC 3339 time of creation"`
}

type ringGroupMemberJSON struct {
	UserID   int64 `json:"user_id" doc:"Member user ID" required:"true"`
	RingTime int   `json:"ring_time" doc:"Seconds this member rings; 0 = the group's"`
}

func toRingGroupJSON(g *switchboard.RingGroup) ringGroupJSON {
	members := make([]ringGroupMemberJSON, 0, len(g.Members))
	for _, m := range g.Members {
		members = append(members, ringGroupMemberJSON{UserID: m.UserID, RingTime: m.RingTime})
	}
	return ringGroupJSON{PK: g.ID, Name: g.Name, Extension: g.Extension, Strategy: string(g.Strategy), RingTime: g.RingTime,
		Members: members, Fallback: toTargetJSON(g.Fallback), CreatedAt: formatTime(g.CreatedAt)}
}

// ringGroupRequestJSON is the body of POST and PATCH ring groups: a field left out is "not
// given".
type ringGroupRequestJSON struct {
	Name      *string                `json:"name" doc:"Name" create:"required"`
	Extension *string                `json:"extension" doc:"Extension, 2 to 8 digits" create:"required"`
	Strategy  *string                `json:"strategy" doc:"simultaneous or sequential" default:"simultaneous"`
	RingTime  *int                   `json:"ring_time" doc:"1 to 600 seconds" default:"20" create:"nullable"`
	Members   *[]ringGroupMemberJSON `json:"members" doc:"Members, in ring order; on PATCH, they replace the member list"`
	Fallback  *targetJSON            `json:"fallback" doc:"Where the call goes when nobody answers" default:"hang up" create:"nullable"`
}

func (b ringGroupRequestJSON) change() switchboard.RingGroupChange {
	c := switchboard.RingGroupChange{Name: b.Name, Extension: b.Extension, RingTime: b.RingTime, Fallback: b.Fallback.target()}
	if b.Strategy != nil {
		strategy := switchboard.RingGroupStrategy(*b.Strategy)
		c.Strategy = &strategy
	}
	if b.Members != nil {
		members := make([]switchboard.RingGroupMember, 0, len(*b.Members))
		for _, m := range *b.Members {
			members = append(members, switchboard.RingGroupMember{UserID: m.UserID, RingTime: m.RingTime})
		}
		c.Members = &members
	}
	return c
}
