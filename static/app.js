/* Outbound — progressive enhancement only. Every page works without this file; it is attached
   by data attributes on DOMContentLoaded (no inline scripts or handlers: the CSP forbids them).

   [data-countdown="N"][data-label="…"]  button disabled for N seconds, label shows "(N)"
   form[data-confirm="…"], button[data-confirm="…"]  confirm() before submitting
   form[data-upload]                      send with XHR, show progress in [data-progress]
   [data-autosubmit]                      submit the form when the value changes
   input[type=file][data-max-bytes]       refuse a too-large file, message in [data-file-error]
   input[type=checkbox][data-check-all="name"]  tick / untick every checkbox `name` in the form
   [data-dialog-open="id"], [data-dialog-close]  open / close a <dialog>
   select[data-narrowed-by="id"]          keep only the <optgroup data-for> of the value chosen in
                                          #id (and those with data-for=""); all are shown without JS
   details.menu-dropdown                  one open at a time; closed by Escape or a click outside
   .steps, .tabs, .nav-list               a bar wider than the screen shows its current item */
(function () {
  "use strict";

  var zh = (document.documentElement.lang || "zh").toLowerCase().indexOf("zh") === 0;
  function say(zhText, enText) { return zh ? zhText : enText; }
  function each(selector, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  /* ---- 申报须知: the start button waits N seconds ---- */
  function countdowns() {
    each("[data-countdown]", function (btn) {
      var seconds = parseInt(btn.getAttribute("data-countdown"), 10) || 0;
      var label = btn.getAttribute("data-label") || btn.textContent.trim();
      var deadline = Date.now() + seconds * 1000;
      function tick() {
        var left = Math.ceil((deadline - Date.now()) / 1000);
        if (left > 0) {
          btn.disabled = true;
          btn.setAttribute("aria-disabled", "true");
          btn.textContent = label + " (" + left + ")";
          window.setTimeout(tick, 200);
        } else {
          btn.disabled = false;
          btn.removeAttribute("aria-disabled");
          btn.textContent = label;
        }
      }
      tick();
    });
  }

  /* ---- bars that scroll sideways (phones): the current step, tab or menu item in view ---- */
  function showCurrent() {
    each(".steps, .tabs, .nav-list", function (bar) {
      if (bar.scrollWidth <= bar.clientWidth + 1) return;
      var current = bar.querySelector("[aria-current]");
      if (!current) return;
      var box = bar.getBoundingClientRect();
      var item = current.getBoundingClientRect();
      if (item.left >= box.left && item.right <= box.right) return;
      // Centre it, as far as the bar can scroll (no smooth scrolling: this is the first paint).
      bar.scrollLeft += item.left - box.left - (box.width - item.width) / 2;
    });
  }

  /* ---- confirm before a submit ---- */
  function onClick(e) {
    var btn = e.target.closest && e.target.closest("button[data-confirm], input[type=submit][data-confirm]");
    if (btn && !window.confirm(btn.getAttribute("data-confirm"))) {
      e.preventDefault();
    }
  }

  function onSubmit(e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      e.preventDefault();
      return;
    }
    if (form.hasAttribute("data-upload") && window.FormData && window.XMLHttpRequest) {
      e.preventDefault();
      upload(form, e.submitter);
    }
  }

  /* ---- uploads with a progress bar ---- */
  function formData(form, submitter) {
    var data;
    try {
      data = submitter ? new FormData(form, submitter) : new FormData(form);
    } catch (err) {
      // Older browsers: FormData(form, submitter) is missing, add the pressed button by hand.
      data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    }
    return data;
  }

  function setProgress(form, percent) {
    each("[data-progress]", function (el) {
      el.hidden = false;
      if (el.tagName === "PROGRESS") {
        el.max = 100;
        el.value = percent;
      } else {
        var bar = el.querySelector(".progress-bar");
        if (bar) bar.style.width = percent + "%";
      }
      el.setAttribute("aria-valuenow", String(percent));
      el.setAttribute("title", percent + "%");
    }, form);
    each("[data-progress-text]", function (el) {
      el.hidden = false;
      el.textContent = say("正在上传… ", "Uploading… ") + percent + "%";
    }, form);
  }

  function showFileError(form, text) {
    var box = form.querySelector("[data-file-error]");
    if (box) {
      box.textContent = text;
      box.hidden = false;
    } else {
      window.alert(text);
    }
  }

  function upload(form, submitter) {
    var buttons = form.querySelectorAll("button, input[type=submit]");
    var data = formData(form, submitter);
    var xhr = new XMLHttpRequest();
    // Read the attribute: `form.action` is shadowed by a control named "action".
    var action = new URL(form.getAttribute("action") || window.location.href, window.location.href).href;
    xhr.open((form.getAttribute("method") || "post").toUpperCase(), action);
    var token = form.querySelector("input[name=_csrf]");
    if (token) xhr.setRequestHeader("X-CSRF-Token", token.value);
    xhr.setRequestHeader("Accept", "text/html");

    function busy(yes) {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = yes; });
      form.setAttribute("aria-busy", yes ? "true" : "false");
    }

    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable) setProgress(form, Math.round((ev.loaded / ev.total) * 100));
    });
    xhr.addEventListener("load", function () {
      var here = window.location.href.split("#")[0];
      var target = xhr.responseURL || action;
      var redirected = target !== action;
      if (!xhr.responseText) {
        // No page came back (a proxy refusing a large body, say): stay and say so.
        busy(false);
        showFileError(form, xhr.status === 413
          ? say("文件过大，无法上传", "The file is too large to upload")
          : say("上传失败，请重试", "The upload failed — please try again"));
        return;
      }
      var isHtml = /html/i.test(xhr.getResponseHeader("Content-Type") || "text/html");
      if (redirected && target !== here && !isHtml) {
        window.location.href = target;
        return;
      }
      // Show the page the server answered with: after a redirect that is the next page (shown
      // from this response, not fetched again, so that its one-time message is not lost), after
      // a refusal the same form with the error beside the field. The address bar follows the
      // redirect first, so that links resolve against it and a reload shows the same page.
      if (redirected && target !== here && window.history && window.history.replaceState) {
        try { window.history.replaceState(null, "", target); } catch (err) { /* other origin */ }
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      busy(false);
      showFileError(form, say("网络异常，上传失败，请重试", "Network error — the upload failed, please try again"));
    });

    busy(true);
    setProgress(form, 0);
    xhr.send(data);
  }

  /* ---- file size checked before uploading (the server checks again) ---- */
  function onFileChange(input) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var form = input.form;
    var box = form ? form.querySelector("[data-file-error]") : null;
    if (!max || !input.files) return;
    var tooBig = Array.prototype.some.call(input.files, function (f) { return f.size > max; });
    if (tooBig) {
      var size = max >= 1048576 ? Math.round((max / 1048576) * 10) / 10 + " MB" : Math.ceil(max / 1024) + " KB";
      var text = (box && box.getAttribute("data-file-error")) ||
        say("文件超过 " + size + "，请压缩后再上传", "The file is larger than " + size + " — please make it smaller");
      input.value = "";
      input.setAttribute("aria-invalid", "true");
      if (box) {
        box.textContent = text;
        box.hidden = false;
        if (!box.id) box.id = (input.id || input.name || "file") + "-size-error";
        input.setAttribute("aria-describedby", box.id);
      } else {
        window.alert(text);
      }
    } else {
      input.removeAttribute("aria-invalid");
      if (box) {
        box.textContent = "";
        box.hidden = true;
      }
    }
  }

  /* ---- a select whose choices depend on another field (达标方式 on 外语语种) ---- */
  function narrow(select) {
    var by = document.getElementById(select.getAttribute("data-narrowed-by"));
    if (!by) return;
    // The groups as the server drew them, kept once so that they can come back in order.
    if (!select.narrowGroups) {
      select.narrowGroups = Array.prototype.slice.call(select.querySelectorAll("optgroup"));
    }
    var kept = select.value;
    var chosen = by.value;
    select.narrowGroups.forEach(function (g) {
      if (g.parentNode) g.parentNode.removeChild(g);
    });
    select.narrowGroups.forEach(function (g) {
      var owner = g.getAttribute("data-for") || "";
      if (!chosen || !owner || owner === chosen) select.appendChild(g);
    });
    select.value = kept;
    if (select.value !== kept) select.value = "";
  }

  function onChange(e) {
    var el = e.target;
    if (el.id) each('select[data-narrowed-by="' + el.id + '"]', narrow);
    if (el.matches("input[type=file][data-max-bytes]")) onFileChange(el);
    if (el.matches("[data-autosubmit]") && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit();
      else HTMLFormElement.prototype.submit.call(el.form);
    }
    if (el.matches("input[type=checkbox][data-check-all]")) {
      var scope = el.form || document;
      each("input[type=checkbox]", function (box) {
        if (box.name === el.getAttribute("data-check-all") && !box.disabled) box.checked = el.checked;
      }, scope);
    }
  }

  /* ---- dialogs and the per-row 操作 menus ---- */
  function onClickUi(e) {
    var opener = e.target.closest && e.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && dialog.showModal) {
        e.preventDefault();
        dialog.showModal();
      }
    }
    var closer = e.target.closest && e.target.closest("[data-dialog-close]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) {
        e.preventDefault();
        open.close();
      }
    }
    // A click outside an open row menu closes it.
    each("details.menu-dropdown[open]", function (d) {
      if (!d.contains(e.target)) d.open = false;
    });
  }

  function onToggle(e) {
    var d = e.target;
    if (d.matches && d.matches("details.menu-dropdown") && d.open) {
      each("details.menu-dropdown[open]", function (other) {
        if (other !== d) other.open = false;
      });
    }
  }

  function onKey(e) {
    if (e.key === "Escape") {
      each("details.menu-dropdown[open]", function (d) {
        d.open = false;
        var summary = d.querySelector("summary");
        if (summary) summary.focus();
      });
    }
  }

  function init() {
    countdowns();
    showCurrent();
    each("select[data-narrowed-by]", narrow);
    document.addEventListener("click", onClick, true);
    document.addEventListener("click", onClickUi);
    document.addEventListener("submit", onSubmit);
    document.addEventListener("change", onChange);
    document.addEventListener("toggle", onToggle, true);
    document.addEventListener("keydown", onKey);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
