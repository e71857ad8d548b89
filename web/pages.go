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
}
