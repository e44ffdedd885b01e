// The candidate's player. Without this file every button posts the answer form and the test
// still works; with it, answers are saved the moment they change, kept in the browser until the
// server acknowledges them (and resent after a dropped connection or a reload), and the clock
// follows the server's deadline.
(function () {
  "use strict";
  const player = document.getElementById("player");
  if (!player) return;
  const sitting = player.dataset.sitting;
  const csrf = player.dataset.csrf;
  const queueKey = "te-queue-" + sitting;
  const sequenceKey = "te-sequence-" + sitting;
  const warnedKey = "te-warned-" + sitting;
  const statusBox = document.getElementById("save-status");
  const form = document.getElementById("answer-form");
  const position = Number(player.dataset.position || 0);
  const type = player.dataset.type;

  // ---- time on this question ---------------------------------------------------------------
  // Seconds the question has been on screen over all visits; each save carries the total so
  // far, so the analysts get response times (up to the last change of answer).
  const secondsKey = "te-seconds-" + sitting + "-" + position;
  let earlier = Number(localStorage.getItem(secondsKey) || 0);
  let shownSince = document.visibilityState === "visible" ? performance.now() : null;
  function secondsOnQuestion() {
    const now = shownSince === null ? 0 : (performance.now() - shownSince) / 1000;
    return Math.round(earlier + now);
  }
  function pauseQuestionClock() {
    if (shownSince !== null) earlier += (performance.now() - shownSince) / 1000;
    shownSince = null;
    localStorage.setItem(secondsKey, String(earlier));
  }
  if (position) {
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { if (shownSince === null) shownSince = performance.now(); }
      else pauseQuestionClock();
    });
    window.addEventListener("pagehide", pauseQuestionClock);
  }

  // ---- the server's clock ------------------------------------------------------------------
  const timer = document.getElementById("timer");
  const warningBox = document.getElementById("warning");
  const warnings = (player.dataset.warnings || "").split(",").filter(Boolean).map(Number);
  let deadline = null;
  if (player.dataset.remaining !== undefined) {
    deadline = performance.now() + Number(player.dataset.remaining) * 1000;
  }

  function secondsLeft() {
    return deadline === null ? null : Math.max(0, Math.round((deadline - performance.now()) / 1000));
  }

  function showTime() {
    const left = secondsLeft();
    if (left === null || !timer) return;
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    timer.textContent = minutes + ":" + seconds;
    const warned = JSON.parse(sessionStorage.getItem(warnedKey) || "[]");
    for (const minutesLeft of warnings) {
      if (left <= minutesLeft * 60 && left > 0 && warned.indexOf(minutesLeft) < 0) {
        warned.push(minutesLeft);
        sessionStorage.setItem(warnedKey, JSON.stringify(warned));
        if (warningBox) {
          warningBox.hidden = false;
          warningBox.textContent = minutesLeft + (minutesLeft === 1 ? " minute" : " minutes") + " left.";
        }
      }
    }
    if (left === 0 && warningBox) {
      warningBox.hidden = false;
      warningBox.textContent = "Your time is up. Your answers are being submitted.";
    }
  }

  async function syncClock() {
    try {
      // Each sync is also a check-in: the console sees when this browser was last heard from
      // and how many answers it still holds unacknowledged.
      const reply = await fetch("/candidate/clock?unsent=" + loadQueue().length, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!reply.ok) return;
      const state = await reply.json();
      const here = player.dataset.paused ? ["paused", "on_break"] : ["in_progress"];
      if (here.indexOf(state.status) < 0) {
        await flush();
        window.location.assign(state.go);
        return;
      }
      if (!player.dataset.paused) deadline = performance.now() + state.remaining_seconds * 1000;
    } catch (error) {
      // Offline: keep counting down locally; the server still owns the deadline.
    }
  }

  if (player.dataset.paused) {
    setInterval(syncClock, 3000);
  } else if (deadline !== null) {
    showTime();
    setInterval(showTime, 1000);
    // Often enough that a pause by the invigilator hides the question within seconds.
    setInterval(syncClock, 5000);
    setInterval(function () { if (secondsLeft() === 0) syncClock(); }, 2000);
  }

  // ---- answers: a queue that survives reloads ---------------------------------------------
  function loadQueue() { return JSON.parse(localStorage.getItem(queueKey) || "[]"); }
  function saveQueue(queue) { localStorage.setItem(queueKey, JSON.stringify(queue)); }
  function nextSequence() {
    const current = Math.max(Number(localStorage.getItem(sequenceKey) || 0), Number(player.dataset.latestSequence || 0));
    localStorage.setItem(sequenceKey, String(current + 1));
    return current + 1;
  }

  function say(text, retrying) {
    if (!statusBox) return;
    statusBox.textContent = text;
    statusBox.classList.toggle("retrying", Boolean(retrying));
  }

  function currentAnswer() {
    if (!form) return null;
    if (type === "single") {
      const chosen = form.querySelector('input[name="answer"]:checked');
      return chosen ? chosen.value : null;
    }
    if (type === "multiple") {
      const chosen = Array.from(form.querySelectorAll('input[name="answer"]:checked')).map((box) => box.value);
      return chosen.length ? chosen : null;
    }
    if (type === "ordering") {
      const order = Array.from(form.querySelectorAll('select[name^="position-"]')).map((select) => select.value);
      return order.some(Boolean) ? order : null;
    }
    const matches = {};
    for (const select of form.querySelectorAll('select[name^="match-"]')) {
      if (select.value) matches[select.name.slice("match-".length)] = select.value;
    }
    return Object.keys(matches).length ? matches : null;
  }

  function showAnswer(answer) {
    if (!form) return;
    if (type === "single" || type === "multiple") {
      const chosen = answer === null ? [] : [].concat(answer);
      for (const box of form.querySelectorAll('input[name="answer"]')) box.checked = chosen.indexOf(box.value) >= 0;
    } else if (type === "ordering") {
      form.querySelectorAll('select[name^="position-"]').forEach(function (select, index) {
        select.value = answer ? answer[index] || "" : "";
      });
    } else {
      for (const select of form.querySelectorAll('select[name^="match-"]')) {
        select.value = answer ? answer[select.name.slice("match-".length)] || "" : "";
      }
    }
  }

  let flushing = null;
  let retryDelay = 1000;

  async function sendOne(entry) {
    const reply = await fetch("/candidate/answers", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(entry),
      cache: "no-store",
    });
    if (reply.ok) return { ok: true };
    const body = await reply.json().catch(function () { return {}; });
    return { ok: false, status: reply.status, body: body };
  }

  async function flushNow() {
    let queue = loadQueue();
    while (queue.length) {
      const entry = queue[0];
      let outcome;
      try {
        outcome = await sendOne(entry);
      } catch (error) {
        outcome = { ok: false, status: 0, body: {} };
      }
      queue = loadQueue();
      if (outcome.ok || (outcome.status >= 400 && outcome.status < 500 && outcome.body.final)) {
        // Acknowledged, or refused for good (the test has ended): either way it is done with.
        queue = queue.filter((e) => !(e.position === entry.position && e.sequence === entry.sequence));
        saveQueue(queue);
        if (!outcome.ok) say(outcome.body.message || "That answer could not be saved.", true);
        retryDelay = 1000;
        continue;
      }
      say(outcome.status === 409 && outcome.body.message ? outcome.body.message : "Not saved, retrying…", true);
      setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
      return false;
    }
    if (form) say(currentAnswer() === null ? "" : "Saved", false);
    return true;
  }

  function flush() {
    if (!flushing) {
      flushing = flushNow().finally(function () { flushing = null; });
    }
    return flushing;
  }

  function enqueueCurrent() {
    const entry = { position: position, response: currentAnswer(), sequence: nextSequence(), seconds: secondsOnQuestion() };
    const queue = loadQueue().filter((e) => e.position !== position);
    queue.push(entry);
    saveQueue(queue);
    say("Saving…", false);
    return flush();
  }

  if (form) {
    // An answer still waiting in this browser is newer than the one the page shows.
    const waiting = loadQueue().filter((e) => e.position === position).pop();
    if (waiting) showAnswer(waiting.response);
    form.addEventListener("change", enqueueCurrent);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const button = event.submitter;
      const go = button ? button.value : "next";
      const saved = await flush();
      if (!saved) return; // stay: the answers are safe here and retrying
      if (go === "flag" || go === "unflag") {
        const flagged = go === "flag";
        const reply = await fetch("/candidate/flag", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ position: position, flagged: flagged }),
        }).catch(function () { return null; });
        if (reply && reply.ok) {
          button.value = flagged ? "unflag" : "flag";
          button.setAttribute("aria-pressed", flagged ? "true" : "false");
          const link = document.querySelector('.navigator a[aria-current="page"]');
          if (link) link.classList.toggle("flagged", flagged);
          say(flagged ? "Flagged for review" : "Flag removed", false);
        } else {
          say("The flag could not be saved. Try again.", true);
        }
        return;
      }
      const total = Number(player.dataset.total);
      if (go === "review") window.location.assign("/candidate/review");
      else if (go === "previous") window.location.assign("/candidate/question/" + Math.max(1, position - 1));
      else window.location.assign(position >= total ? "/candidate/review" : "/candidate/question/" + (position + 1));
    });
  }
  // Anything left from before a reload or a dropped connection goes now.
  if (loadQueue().length) flush();
  window.addEventListener("online", flush);

  // ---- leaving the test window is logged for the invigilator (A12) ----------------------
  function reportFocus(lost) {
    fetch("/candidate/focus", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ lost: lost }),
      keepalive: true,
    }).catch(function () {});
  }
  document.addEventListener("visibilitychange", function () { reportFocus(document.visibilityState === "hidden"); });
  window.addEventListener("blur", function () { reportFocus(true); });
  window.addEventListener("focus", function () { reportFocus(false); });
})();
