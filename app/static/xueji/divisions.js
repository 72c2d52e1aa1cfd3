/* The division picker: every [data-division-picker] box becomes province → city → county
   selects fed by its data-url (/divisions/children?parent=CODE).  The chosen county's code plus
   six zeros goes into the original input, which stays the form's field; a finer code already
   there is kept until another place is picked.  Without this script the text box remains, and
   takes a division's name or its 12-digit code.  No inline handlers: the page's CSP allows none. */
(function () {
  "use strict";
  if (window.xuejiDivisions) { return; }
  var cache = {};

  function children(url, parent) {
    var key = parent || "";
    if (!cache[key]) {
      cache[key] = fetch(url + "?parent=" + encodeURIComponent(key), {credentials: "same-origin"})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
    }
    return cache[key];
  }

  function fill(select, items, blank, chosen) {
    select.innerHTML = "";
    select.appendChild(new Option("— " + blank + " —", ""));
    items.forEach(function (d) { select.appendChild(new Option(d.name, d.code)); });
    select.value = chosen || "";
    select.disabled = items.length === 0;
  }

  function Picker(box) {
    this.box = box;
    this.input = box.querySelector("input");
    this.note = box.querySelector(".division-name");
    this.url = box.getAttribute("data-url");
    var words = ["province", "city", "county"];
    var row = document.createElement("div");
    row.className = "division-selects";
    this.selects = words.map(function (word, level) {
      var cell = document.createElement("div");
      cell.className = "division-level";
      var select = document.createElement("select");
      select.className = "form-control division-" + word;
      select.setAttribute("data-level", String(level));
      select.setAttribute("aria-label", box.getAttribute("data-" + word));
      select.disabled = true;
      cell.appendChild(select);
      row.appendChild(cell);
      return select;
    });
    this.words = words.map(function (w) { return box.getAttribute("data-" + w); });
    box.insertBefore(row, this.input);
    this.input.type = "hidden";
    var self = this;
    this.selects.forEach(function (select, level) {
      select.addEventListener("change", function () { self.changed(level); });
    });
    this.start();
  }

  Picker.prototype.start = function () {
    var value = (this.input.value || "").trim();
    var code = /^\d{6}(\d{6})?$/.test(value) ? value.slice(0, 6) : "";
    var path = code ? [code.slice(0, 2) + "0000", code.slice(0, 4) + "00", code] : [];
    this.load(0, "", path);
  };

  /* Fill the select of ``level`` with the children of ``parent``, choose path[level], go on. */
  Picker.prototype.load = function (level, parent, path) {
    var self = this;
    var select = this.selects[level];
    return children(this.url, parent).then(function (items) {
      var wanted = path[level] || "";
      if (!wanted && items.length === 1) { wanted = items[0].code; }  // 北京市 → 市辖区
      if (!items.some(function (d) { return d.code === wanted; })) { wanted = ""; }
      fill(select, items, self.words[level], wanted);
      for (var below = level + 1; below < self.selects.length; below++) {
        fill(self.selects[below], [], self.words[below], "");
      }
      if (wanted && level + 1 < self.selects.length) {
        return self.load(level + 1, wanted, path);
      }
    }).catch(function () {
      self.input.type = "text";  // the plain box again: the place can still be typed
      self.box.querySelector(".division-selects").style.display = "none";
      if (self.note) { self.note.textContent = self.box.getAttribute("data-failed"); }
    });
  };

  Picker.prototype.changed = function (level) {
    var code = this.selects[level].value;
    var self = this;
    for (var below = level + 1; below < this.selects.length; below++) {
      fill(this.selects[below], [], this.words[below], "");
    }
    var deeper = code && level + 1 < this.selects.length;
    (deeper ? this.load(level + 1, code, []) : Promise.resolve()).then(function () { self.record(); });
  };

  /* The deepest division chosen, as its 12-digit statistical code, into the form's field. */
  Picker.prototype.record = function () {
    var chosen = this.selects.filter(function (s) { return s.value; });
    var last = chosen[chosen.length - 1];
    this.input.value = last ? last.value + "000000" : "";
    if (this.note) {
      this.note.textContent = chosen.map(function (s) {
        var text = s.options[s.selectedIndex].text;
        return /^(市辖区|县|省直辖县级行政单位|自治区直辖县级行政单位)$/.test(text) ? "" : text;
      }).join("");
    }
    this.input.dispatchEvent(new Event("change", {bubbles: true}));
  };

  function init() {
    var boxes = document.querySelectorAll("[data-division-picker]");
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.getAttribute("data-url") && !box.xuejiPicker) { box.xuejiPicker = new Picker(box); }
    });
  }

  window.xuejiDivisions = {init: init};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
