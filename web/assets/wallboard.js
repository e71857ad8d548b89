// The wallboard: reads /wallboard/state.json and renders it with textContent only (no
// HTML from data, so nothing a caller name holds can run). The live event stream tells it
// when to read again; while the stream is down it reads every 5 seconds.
"use strict";
(function () {
  var root = document.getElementById("wallboard");
  if (!root) { return; }
  var stateEl = document.getElementById("livestate");
  var pending = false, streamUp = false, timer = null;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function row(cells) {
    var tr = el("tr");
    cells.forEach(function (c) { if (c instanceof Node) { var td = el("td"); td.appendChild(c); tr.appendChild(td); } else { tr.appendChild(el("td", String(c))); } });
    return tr;
  }
  function fill(tbody, rows, empty, cols) {
    tbody.replaceChildren();
    if (rows.length === 0) { var tr = el("tr"); var td = el("td", empty); td.colSpan = cols; tr.appendChild(td); tbody.appendChild(tr); }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  function render(st) {
    var calls = [], presence = [];
    st.users.forEach(function (u) {
      presence.push(row([u.extension, u.name, el("span", u.online ? "online" : "offline", u.online ? "online" : "offline")]));
      u.calls.forEach(function (c) { calls.push(row([u.extension + " " + u.name, c.from, c.to, c.seconds])); });
    });
    fill(document.querySelector("#presence tbody"), presence, "No users.", 3);
    fill(document.querySelector("#calls tbody"), calls, "No calls right now.", 4);
    var qs = document.getElementById("queues");
    qs.replaceChildren();
    st.queues.forEach(function (q) {
      var card = el("section", undefined, "card");
      card.appendChild(el("h3", q.name + " (" + q.extension + ")"));
      card.appendChild(el("p", "Waiting: " + q.waiting.length + " · longest " + q.longest_wait + " s · offered " + q.offered +
        " · answered " + q.answered + " · service level " + q.service_level_pct + "% in " + q.service_level_sec + " s · ASA " + q.asa + " s"));
      var ul = el("ul");
      q.waiting.forEach(function (c) { ul.appendChild(el("li", "waiting: " + c.from + " " + c.name + " — " + c.seconds + " s")); });
      q.agents.forEach(function (a) { ul.appendChild(el("li", "agent " + a.extension + " " + a.name + ": " + a.state)); });
      card.appendChild(ul);
      if (q.abandoned.length) {
        card.appendChild(el("h4", "Abandoned today — call back"));
        var ab = el("ul");
        q.abandoned.forEach(function (c) { ab.appendChild(el("li", c.from + " " + c.name + " at " + c.at + " after " + c.seconds + " s")); });
        card.appendChild(ab);
      }
      qs.appendChild(card);
    });
    stateEl.textContent = (streamUp ? "Live" : "Live stream unavailable: refreshing every 5 s") + " · updated " + st.at;
  }
  function load() {
    if (pending) { return; }
    pending = true;
    fetch("/wallboard/state.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(render)
      .catch(function () { stateEl.textContent = "Cannot read the state; retrying."; })
      .finally(function () { pending = false; });
  }
  function poll(on) {
    if (on && !timer) { timer = setInterval(load, 5000); }
    if (!on && timer) { clearInterval(timer); timer = null; }
  }
  load();
  poll(true);
  if (window.EventSource) {
    var es = new EventSource("/wallboard/events");
    es.onopen = function () { streamUp = true; poll(false); load(); };
    es.onmessage = load;
    (root.getAttribute("data-events") || "").split(" ").forEach(function (n) { es.addEventListener(n, load); });
    es.onerror = function () { streamUp = false; poll(true); }; // EventSource reconnects by itself
  }
})();
