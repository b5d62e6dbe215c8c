// The stswatch live map: active and recent encounters with both vessels' tracks, the EEZ
// outlines and a list of alerts (newest first, click to zoom). It reads only the status API
// of the server that serves it, and refreshes itself every `refresh_s` seconds.
//
// Vessel names come from AIS messages, which anyone can send: every text from the data goes
// into the page through textContent, never as HTML.
/* global L */
"use strict";

(function () {
  const TOKEN_KEY = "stswatch-token";
  const CLOSED_SHOWN = 50;
  const ACTIVE_SHOWN = 500;
  const COLOURS = { a: "#d7301f", b: "#2b6cb0" };

  const page = {
    status: document.getElementById("status"),
    counts: document.getElementById("counts"),
    list: document.getElementById("alerts"),
    empty: document.getElementById("empty"),
    login: document.getElementById("login"),
    token: document.getElementById("token"),
  };
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || "",
    config: null,
    map: null,
    layers: new Map(), // alert_id -> {group, marker, eventId, detailAt}
    details: new Map(), // alert_id -> detail body
    selected: null,
    fitted: false,
    eezLoaded: false,
    timer: null,
  };

  // Test hooks: counts of what the page shows and of blocked resources (CSP).
  document.body.dataset.cspViolations = "0";
  document.addEventListener("securitypolicyviolation", function () {
    document.body.dataset.cspViolations = String(Number(document.body.dataset.cspViolations) + 1);
  });

  class AuthError extends Error {}

  async function getJSON(path) {
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const response = await fetch(path, { headers: headers, cache: "no-store" });
    if (response.status === 401) throw new AuthError("bearer token needed");
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try {
        const body = await response.json();
        if (body && body.message) message = body.message;
      } catch (ignored) { /* not JSON */ }
      throw new Error(message);
    }
    return response.json();
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function vesselName(vessel) {
    const flag = vessel.flag ? vessel.flag.iso2 : "??";
    return (vessel.name || "MMSI " + vessel.mmsi) + " [" + flag + "]";
  }

  function hoursText(seconds) {
    const minutes = Math.round(seconds / 60);
    const hours = Math.floor(minutes / 60);
    const rest = String(minutes % 60).padStart(2, "0");
    return hours ? hours + " h " + rest + " min" : minutes + " min";
  }

  function isActive(alert) {
    return alert.event !== "closed";
  }

  function describe(alert) {
    const eez = alert.eez ? alert.eez.name + " (" + alert.eez.iso + ")" : "no EEZ";
    const kind = alert.type && alert.type !== "sts" ? alert.type.replace(/_/g, " ") + ": " : "";
    let how = hoursText(alert.duration_s || 0);
    if (alert.median_distance_m !== null && alert.median_distance_m !== undefined) {
      how += ", median " + Math.round(alert.median_distance_m) + " m (min " +
        Math.round(alert.min_distance_m) + " m)";
    }
    if (alert.risk) how += ", risk " + alert.risk.score;
    return {
      title: kind + alert.vessels.map(vesselName).join(" + "),
      where: eez,
      how: how,
      when: alert.event_time.replace("T", " "),
      at: alert.position.lat.toFixed(4) + ", " + alert.position.lon.toFixed(4),
    };
  }

  function popupContent(alert) {
    const text = describe(alert);
    const box = element("div", "popup");
    box.appendChild(element("div", "title", text.title));
    const rows = element("dl");
    const add = function (label, value) {
      rows.appendChild(element("dt", null, label));
      rows.appendChild(element("dd", null, value));
    };
    add("event", alert.event + " at " + text.when);
    add("since", alert.start.replace("T", " "));
    add("duration", text.how);
    add("EEZ", text.where);
    add("position", text.at);
    if (alert.nearest_port) {
      add("port", alert.nearest_port.name + ", " +
        Math.round(alert.nearest_port.distance_m / 1000) + " km");
    }
    add("alert", alert.alert_id);
    box.appendChild(rows);
    return box;
  }

  function setStatus(message, isError) {
    page.status.textContent = message;
    page.status.classList.toggle("error", Boolean(isError));
  }

  function askToken() {
    page.login.hidden = false;
    page.token.focus();
  }

  page.login.addEventListener("submit", function (event) {
    event.preventDefault();
    state.token = page.token.value.trim();
    sessionStorage.setItem(TOKEN_KEY, state.token);
    page.login.hidden = true;
    start();
  });

  function initMap(config) {
    const map = L.map("map", { worldCopyJump: true, minZoom: 2 }).setView([25, 120], 3);
    if (config.tile_url) {
      L.tileLayer(config.tile_url, {
        attribution: config.tile_attribution,
        maxZoom: 18,
        crossOrigin: true,
      }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);
    map.createPane("eez");
    map.getPane("eez").style.zIndex = 350; // under the tracks (overlayPane is 400)
    return map;
  }

  async function loadEez() {
    try {
      const outlines = await getJSON("/eez");
      const layer = L.geoJSON(outlines, {
        pane: "eez",
        interactive: false,
        style: function () {
          return { className: "eez-outline", color: "#6a8caf", weight: 1.2, fill: false };
        },
      }).addTo(state.map);
      state.eezLoaded = true;
      document.body.dataset.eezFeatures = String(outlines.features.length);
      if (!state.fitted && outlines.features.length && layer.getBounds().isValid()) {
        state.map.fitBounds(layer.getBounds(), { maxZoom: 6 });
      }
    } catch (error) {
      if (error instanceof AuthError) return askToken();
      setStatus("EEZ outlines unavailable: " + error.message, true);
    }
  }

  function cssId(alertId) {
    return alertId.replace(/[^a-z0-9_-]/gi, "");
  }

  function signature(alert, detail) {
    // What the drawing depends on: the alert event and how many track points there are.
    let points = 0;
    if (detail) {
      for (const feature of detail.tracks.features) {
        points += feature.properties.times ? feature.properties.times.length : 0;
      }
    }
    return alert.event_id + ":" + points;
  }

  function drawEncounter(alert, detail) {
    const id = alert.alert_id;
    const drawn = signature(alert, detail);
    const old = state.layers.get(id);
    if (old && old.signature === drawn) return; // unchanged: keep it (and its open popup)
    const popupOpen = Boolean(old && old.marker.isPopupOpen());
    if (old) state.map.removeLayer(old.group);
    const group = L.featureGroup();
    const safe = cssId(id);
    if (detail) {
      L.geoJSON(detail.tracks, {
        filter: function (feature) {
          return feature.properties.role !== "encounter" && feature.geometry;
        },
        style: function (feature) {
          const role = feature.properties.role;
          return {
            className: "track track-" + role + " track-" + safe,
            color: COLOURS[role] || "#555",
            weight: 2.5,
            opacity: isActive(alert) ? 0.9 : 0.55,
          };
        },
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, { radius: 3 });
        },
      }).addTo(group);
    }
    const marker = L.circleMarker([alert.position.lat, alert.position.lon], {
      className: "encounter-marker encounter-" + safe + (isActive(alert) ? " active" : ""),
      radius: 8,
      color: "#1d2733",
      weight: 1.5,
      fillColor: isActive(alert) ? "#d7301f" : "#8795a1",
      fillOpacity: 0.85,
    }).bindPopup(function () { return popupContent(alert); });
    marker.addTo(group);
    marker.on("click", function () { select(id, false); });
    group.addTo(state.map);
    state.layers.set(id, { group: group, marker: marker, signature: drawn, alert: alert });
    if (popupOpen) marker.openPopup();
  }

  function select(alertId, zoom) {
    state.selected = alertId;
    for (const item of page.list.children) {
      item.classList.toggle("selected", item.dataset.alertId === alertId);
    }
    const entry = state.layers.get(alertId);
    if (!entry) return;
    if (zoom) {
      const bounds = entry.group.getBounds();
      if (bounds.isValid()) state.map.fitBounds(bounds.pad(0.3), { maxZoom: 12 });
      entry.marker.openPopup();
    }
  }

  function renderList(alerts) {
    const items = alerts.map(function (alert) {
      const text = describe(alert);
      const item = element("li", isActive(alert) ? "alert active" : "alert closed");
      item.dataset.alertId = alert.alert_id;
      item.tabIndex = 0;
      const title = element("div", "title");
      title.appendChild(element("span", "event", alert.event));
      title.appendChild(document.createTextNode(text.title));
      item.appendChild(title);
      item.appendChild(element("div", "meta", text.where + " | " + text.how));
      item.appendChild(element("div", "meta", text.when + " | " + text.at));
      if (alert.alert_id === state.selected) item.classList.add("selected");
      item.addEventListener("click", function () { select(alert.alert_id, true); });
      item.addEventListener("keydown", function (event) {
        if (event.key === "Enter") select(alert.alert_id, true);
      });
      return item;
    });
    page.list.replaceChildren.apply(page.list, items);
    page.empty.hidden = alerts.length > 0;
  }

  async function detailFor(alert) {
    // Tracks of an active encounter grow: fetch them at each refresh; a closed one's once.
    const known = state.details.get(alert.alert_id);
    if (known && known.alert.event_id === alert.event_id && !isActive(alert)) return known;
    try {
      const detail = await getJSON("/encounters/" + encodeURIComponent(alert.alert_id));
      state.details.set(alert.alert_id, detail);
      return detail;
    } catch (error) {
      if (error instanceof AuthError) throw error;
      return known || null; // expired meanwhile, or a passing error: keep what we had
    }
  }

  async function refresh() {
    try {
      const active = await getJSON("/encounters?state=active&limit=" + ACTIVE_SHOWN);
      const closed = await getJSON("/encounters?state=closed&limit=" + CLOSED_SHOWN);
      const alerts = active.encounters.concat(closed.encounters).sort(function (x, y) {
        return x.event_time < y.event_time ? 1 : x.event_time > y.event_time ? -1 : 0;
      });
      const details = await Promise.all(alerts.map(detailFor));
      const shown = new Set();
      alerts.forEach(function (alert, index) {
        shown.add(alert.alert_id);
        drawEncounter(alert, details[index]);
      });
      for (const [id, entry] of state.layers) {
        if (!shown.has(id)) {
          state.map.removeLayer(entry.group);
          state.layers.delete(id);
          state.details.delete(id);
        }
      }
      renderList(alerts);
      page.counts.textContent = "(" + active.count + " active, " + closed.count + " recently closed)";
      if (!state.fitted && alerts.length) {
        const all = L.featureGroup(Array.from(state.layers.values(), function (e) { return e.group; }));
        if (all.getBounds().isValid()) state.map.fitBounds(all.getBounds().pad(0.2), { maxZoom: 11 });
        state.fitted = true;
      }
      setStatus("updated " + new Date().toLocaleTimeString() + ", every " +
        state.config.refresh_s + " s", false);
      document.body.dataset.encounters = String(alerts.length);
      document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
    } catch (error) {
      if (error instanceof AuthError) {
        clearInterval(state.timer);
        state.timer = null;
        return askToken();
      }
      setStatus("update failed (" + error.message + "); showing the last data", true);
    }
  }

  async function start() {
    try {
      if (!state.config) state.config = await getJSON("/map/config");
    } catch (error) {
      setStatus("cannot reach the API: " + error.message, true);
      return;
    }
    if (state.config.auth_required && !state.token) return askToken();
    if (!state.map) state.map = initMap(state.config);
    if (!state.eezLoaded) loadEez();
    await refresh();
    if (!state.timer) {
      state.timer = setInterval(refresh, Math.max(1, state.config.refresh_s) * 1000);
    }
  }

  start();
})();
