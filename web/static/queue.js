// The queue works with plain links and forms; this adds keys, live updates and the bulk selection count.
(function () {
  "use strict";
  var rowsBody = function () { return document.getElementById("rows"); };
  var rows = function () { var b = rowsBody(); return b ? Array.prototype.slice.call(b.querySelectorAll("tr[data-number]")) : []; };
  var cursor = -1;
  // The selection and the queue's address outlive a visit to a ticket: going back finds them as they were.
  var store = window.sessionStorage;
  var onQueue = !!document.getElementById("rows");
  var selected = {};
  try { selected = JSON.parse(store.getItem("oq-selected:" + location.search) || "{}"); } catch (err) { selected = {}; }
  function keep() {
    if (!onQueue) { return; }
    try { store.setItem("oq-selected:" + location.search, JSON.stringify(selected)); } catch (err) { /* private mode */ }
  }
  if (onQueue) {
    try { store.setItem("oq-queue", location.pathname + location.search); } catch (err) { /* private mode */ }
  } else {
    var back = document.querySelector("[data-back]");
    var queueUrl = store.getItem("oq-queue");
    if (back && queueUrl && queueUrl.charAt(0) === "/" && queueUrl.charAt(1) !== "/") { back.href = queueUrl; }
  }

  function mark() {
    rows().forEach(function (tr, i) {
      tr.classList.toggle("cursor", i === cursor);
      var box = tr.querySelector("input[type=checkbox]");
      if (box) { box.checked = !!selected[tr.dataset.number]; tr.classList.toggle("selected", box.checked); }
    });
    var count = document.querySelector(".selected-count b");
    if (count) { count.textContent = Object.keys(selected).length; }
    keep();
  }

  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    cursor = Math.max(0, Math.min(list.length - 1, cursor + step));
    mark();
    list[cursor].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("change", function (e) {
    var box = e.target;
    if (box.name === "numbers") {
      if (box.checked) { selected[box.value] = true; } else { delete selected[box.value]; }
      mark();
    }
  });

  // Tickets selected on other pages of the view go with the bulk form too.
  var bulk = document.getElementById("bulk");
  if (bulk) {
    bulk.addEventListener("submit", function () {
      Object.keys(selected).forEach(function (n) {
        if (!bulk.querySelector("input[name=numbers][value='" + n.replace(/'/g, "") + "']")) {
          var extra = document.createElement("input");
          extra.type = "hidden"; extra.name = "numbers"; extra.value = n;
          bulk.appendChild(extra);
        }
      });
      selected = {};
      keep();
    });
  }

  var pick = document.querySelector(".pick-result");
  if (pick) {
    pick.addEventListener("change", function () {
      var area = pick.form.querySelector("textarea[name=result]");
      if (pick.value && area) { area.value = pick.value; area.focus(); }
    });
  }

  var pendingG = false;
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) {
      if (e.key === "Escape") { t.blur(); }
      return;
    }
    var list = rows();
    if (pendingG) {
      pendingG = false;
      if (e.key === "t") { location.href = "/?view=triage"; }
      return;
    }
    if (!onQueue) {
      // On a ticket: a 受理, r 办结 (to the result field), / back to the queue's search.
      if (e.key === "a" && document.querySelector("form[action$='/accept'] button")) {
        document.querySelector("form[action$='/accept'] button").click();
      } else if (e.key === "r" && document.querySelector("form[action$='/resolve'] textarea")) {
        document.querySelector("form[action$='/resolve'] textarea").focus();
      } else if (e.key === "?") {
        var tk = document.getElementById("keys-help");
        if (tk) { tk.hidden = !tk.hidden; }
      } else if (e.key === "g") { pendingG = true; } else { return; }
      e.preventDefault();
      return;
    }
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": case "Enter":
        if (cursor >= 0 && list[cursor]) { location.href = list[cursor].dataset.href; } else { return; }
        break;
      case "x":
        if (cursor >= 0 && list[cursor]) {
          var n = list[cursor].dataset.number;
          if (selected[n]) { delete selected[n]; } else { selected[n] = true; }
          mark();
        }
        break;
      case "/":
        var q = document.getElementById("q");
        if (q) { q.focus(); q.select(); } else { location.href = "/?q="; }
        break;
      case "?":
        var help = document.getElementById("keys-help");
        if (help) { help.hidden = !help.hidden; }
        break;
      case "g": pendingG = true; break;
      default: return;
    }
    e.preventDefault();
  });

  // Live: the server says which tickets changed; the queue refreshes its rows and counts in place (the
  // selection and the cursor stay), a ticket page reloads when nobody is typing in it.
  mark();
  var live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) { return; }
  var note = document.querySelector(".live-note");
  var last = live.dataset.after;
  function connect() {
    var source = new EventSource("/events?after=" + last);
    source.addEventListener("changed", function (e) {
      var data = JSON.parse(e.data);
      last = data.last;
      if (live.dataset.number) {
        if (data.numbers.indexOf(live.dataset.number) >= 0) { refreshTicket(); }
      } else {
        refreshQueue(data.numbers.length);
      }
    });
    // A stream ends after a while on purpose; the next one starts where this one stopped.
    source.onerror = function () { source.close(); setTimeout(connect, 1000); };
  }
  function fetchPage(done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", location.href);
    xhr.onload = function () {
      if (xhr.status === 200) { done(new DOMParser().parseFromString(xhr.responseText, "text/html")); }
    };
    xhr.send();
  }
  function refreshQueue(n) {
    fetchPage(function (doc) {
      var fresh = doc.getElementById("rows");
      var old = rowsBody();
      if (fresh && old) {
        var at = cursor >= 0 && rows()[cursor] ? rows()[cursor].dataset.number : null;
        old.parentNode.replaceChild(document.importNode(fresh, true), old);
        cursor = at ? rows().map(function (r) { return r.dataset.number; }).indexOf(at) : -1;
        mark();
      }
      doc.querySelectorAll(".count[data-view]").forEach(function (c) {
        var mine = document.querySelector('.count[data-view="' + c.dataset.view + '"]');
        if (mine) { mine.textContent = c.textContent; }
      });
      var m = doc.querySelector(".matching"), mm = document.querySelector(".matching");
      if (m && mm) { mm.textContent = m.textContent; }
      if (note) { note.textContent = "已更新（" + n + " 件工单有变化）"; }
    });
  }
  function refreshTicket() {
    var typing = Array.prototype.some.call(document.querySelectorAll("textarea, input:not([type=hidden])"),
      function (el) { return el.value && el.type !== "checkbox"; });
    if (typing) {
      if (note) { note.textContent = "此工单已被他人更新，请刷新页面查看。"; }
      return;
    }
    fetchPage(function (doc) {
      var main = doc.querySelector("main"), mine = document.querySelector("main");
      if (main && mine) { mine.innerHTML = main.innerHTML; }
      var n = document.querySelector(".live-note");
      if (n) { n.textContent = "此工单已被他人更新。"; }
      live = document.querySelector("[data-live]") || live;
    });
  }
  connect();
})();
