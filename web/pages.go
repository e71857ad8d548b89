package web

func (h *Handler) pageRoutes() {
	h.get("/users", true, h.usersPage)
	h.post("/users", true, h.userCreate)
	h.get("/users/{id}", true, h.userPage)
	h.post("/users/{id}", true, h.userUpdate)
	h.post("/users/{id}/delete", true, h.userDelete)
	h.post("/users/{id}/devices", true, h.deviceCreate)
	h.post("/users/{id}/login", true, h.userLoginCreate)
	h.post("/devices/{id}/delete", true, h.deviceDelete)
	h.post("/logins/{id}/delete", true, h.loginDelete)
	h.listRoutes()
	h.webhookRoutes()
	h.keyRoutes()
	h.historyRoutes()
	h.meRoutes()
	h.wallboardRoutes()
	h.detailRoutes()
	h.agentRoutes()
	h.mediaRoutes()
	h.messageRoutes()
}

func (h *Handler) listRoutes() {
	h.resourceRoutes()
	h.get("/call-flows", true, h.listPage("Call flows", h.callFlowsList))
	h.get("/prompts", true, h.listPage("Prompts", h.promptsList))
	h.get("/conferences", true, h.listPage("Conference rooms", h.conferencesList))
	h.get("/voicemail", false, h.voicemailPage)
	h.get("/voicemail/{id}/audio", false, h.voicemailAudio)
}

func (h *Handler) webhookRoutes() {
	h.get("/webhooks", true, h.webhooksPage)
	h.post("/webhooks", true, h.webhookCreate)
	h.get("/webhooks/{id}", true, h.webhookPage)
	h.post("/webhooks/{id}/test", true, h.webhookTest)
	h.post("/webhooks/{id}/delete", true, h.webhookDelete)
	h.get("/deliveries/{id}", true, h.deliveryPage)
	h.post("/deliveries/{id}/resend", true, h.deliveryResend)
}

func (h *Handler) keyRoutes() {
	h.get("/api-keys", true, h.keysPage)
	h.post("/api-keys", true, h.keyCreate)
	h.post("/api-keys/{id}/revoke", true, h.keyRevoke)
}

func (h *Handler) historyRoutes() {
	h.get("/history", false, h.historyPage)
	h.get("/history.csv", false, h.historyCSV)
}

func (h *Handler) meRoutes() {
	h.get("/me", false, h.mePage)
	h.post("/me", false, h.meUpdate)
	h.post("/me/voicemail", false, h.meVoicemail)
	h.get("/security", false, h.securityPage)
	h.post("/security/password", false, h.passwordChange)
	h.post("/security/totp", false, h.totpStart)
	h.post("/security/totp/confirm", false, h.totpConfirm)
}

func (h *Handler) wallboardRoutes() {
	h.get("/wallboard", true, h.wallboardPage)
	h.get("/wallboard/state.json", true, h.wallboardState)
	h.get("/wallboard/events", true, h.wallboardEvents)
	h.get("/wallboard/ws", true, h.wallboardWS)
}
