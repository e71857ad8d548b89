package api

// QueueMemberInvalidator is told when a queue's members change through the API (added,
// paused or unpaused, penalty changed, removed, or the queue deleted), so that the call
// engine reads them again at once instead of after its member cache expires: a member
// paused through the API is skipped on the very next queue call. The call engine
// (pbx.Engine) implements it; Config.QueueMembers hands it over.
type QueueMemberInvalidator interface {
	InvalidateQueueMembers(queueID int64)
}

// queueMembersChanged tells the call engine, if this process runs one, that queueID's
// members changed.
func (s *Server) queueMembersChanged(queueID int64) {
	if s.queueCache != nil {
		s.queueCache.InvalidateQueueMembers(queueID)
	}
}
