// sageyard's console: keeps the server-rendered pages live. No framework, no build step.
// - [data-live]: replaced every 2 s with a fresh fragment, until it says data-final="1";
// - pre[data-log]: new log lines appended (the API says where the next read starts);
// - [data-metrics], [data-best]: uPlot charts from the JSON API, redrawn while running;
// - [data-parallel]: parallel coordinates of a tuning job's trials, as SVG.
"use strict";

const POLL_MS = 2000;

async function getJSON(url) {
  const answer = await fetch(url, { credentials: "same-origin" });
  if (!answer.ok) throw new Error(`${url}: ${answer.status}`);
  return answer.json();
}

function isFinal(element) {
  const marked = element.querySelector("[data-final]");
  return marked !== null && marked.dataset.final === "1";
}

function keepLive(element) {
  const tick = async () => {
    if (isFinal(element)) return;
    try {
      const answer = await fetch(element.dataset.live, { credentials: "same-origin" });
      if (answer.ok) element.innerHTML = await answer.text();
    } catch (error) { /* the server restarts: try again */ }
    setTimeout(tick, POLL_MS);
  };
  setTimeout(tick, POLL_MS);
}

function pageFinal() {
  return Array.from(document.querySelectorAll("[data-live]")).every(isFinal);
}

function followLog(element) {
  let after = 0;
  const tick = async () => {
    try {
      const page = await getJSON(`${element.dataset.log}&after=${after}`);
      if (page.lines.length) {
        const atBottom = element.scrollTop + element.clientHeight >= element.scrollHeight - 4;
        element.textContent += page.lines.join("\n") + "\n";
        if (atBottom) element.scrollTop = element.scrollHeight;
      }
      after = page.next;
    } catch (error) { /* try again */ }
    if (!pageFinal()) setTimeout(tick, POLL_MS);
    else if (!element.dataset.done) { element.dataset.done = "1"; setTimeout(tick, POLL_MS); }
  };
  tick();
}

function chart(container, title, xs, ys, label) {
  const box = document.createElement("div");
  box.className = "chart";
  box.dataset.chart = title;
  box.innerHTML = `<div class="title"></div>`;
  box.querySelector(".title").textContent = title;
  container.appendChild(box);
  new uPlot(
    { width: 420, height: 220, series: [{}, { label, stroke: "#2f6fde", width: 2, points: { show: true } }],
      scales: { x: { time: true } } },
    [xs, ys],
    box,
  );
}

function drawMetrics(container) {
  let drawn = "";
  const tick = async () => {
    try {
      const job = await getJSON(container.dataset.metrics);
      const key = JSON.stringify(job.metrics);
      if (key !== drawn) {
        drawn = key;
        container.innerHTML = "";
        const names = Object.keys(job.metrics).sort();
        if (!names.length) container.textContent = "No metric points yet.";
        for (const name of names) {
          const points = job.metrics[name];
          chart(container, name, points.map(p => p[0]), points.map(p => p[1]), name);
        }
      }
      if (["Completed", "Failed", "Stopped"].includes(job.status)) return;
    } catch (error) { /* try again */ }
    setTimeout(tick, POLL_MS);
  };
  tick();
}

function drawBest(container) {
  let drawn = "";
  const tick = async () => {
    try {
      const tuning = await getJSON(container.dataset.best);
      const key = JSON.stringify(tuning.best_over_time);
      if (key !== drawn) {
        drawn = key;
        container.innerHTML = "";
        const points = tuning.best_over_time;
        if (!points.length) container.textContent = "No scored trial yet.";
        else chart(container, `best ${tuning.objective.metric}`, points.map(p => p[0]), points.map(p => p[1]),
                   tuning.objective.metric);
      }
      const parallel = document.querySelector("[data-parallel]");
      if (parallel) drawParallel(parallel, tuning);
      if (["Completed", "Failed", "Stopped"].includes(tuning.status)) return;
    } catch (error) { /* try again */ }
    setTimeout(tick, POLL_MS);
  };
  tick();
}

function drawParallel(container, tuning) {
  const scored = tuning.trials.filter(t => t.objective !== null);
  const axes = [...new Set(tuning.trials.flatMap(t => Object.keys(t.parameters)))].sort();
  axes.push("objective");
  const valueOf = (trial, axis) => axis === "objective" ? trial.objective : trial.parameters[axis];
  const width = Math.max(480, 160 * axes.length), height = 260, top = 24, bottom = 30;
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("class", "parallel");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const x = i => 60 + i * ((width - 120) / Math.max(1, axes.length - 1));
  const scales = axes.map(axis => {
    const values = scored.map(t => valueOf(t, axis));
    const numeric = values.every(v => v !== undefined && !isNaN(Number(v)));
    if (numeric) {
      const nums = values.map(Number), lo = Math.min(...nums), hi = Math.max(...nums);
      return v => top + (height - top - bottom) * (hi === lo ? 0.5 : 1 - (Number(v) - lo) / (hi - lo));
    }
    const categories = [...new Set(values.map(String))].sort();
    return v => top + (height - top - bottom) * (categories.length < 2 ? 0.5 : categories.indexOf(String(v)) / (categories.length - 1));
  });
  axes.forEach((axis, i) => {
    const line = document.createElementNS(svgNS, "line");
    line.setAttribute("x1", x(i)); line.setAttribute("x2", x(i));
    line.setAttribute("y1", top); line.setAttribute("y2", height - bottom);
    line.setAttribute("stroke", "#9aa6b2");
    svg.appendChild(line);
    const label = document.createElementNS(svgNS, "text");
    label.setAttribute("x", x(i)); label.setAttribute("y", height - 10);
    label.setAttribute("text-anchor", "middle");
    label.textContent = axis;
    svg.appendChild(label);
  });
  for (const trial of scored) {
    const path = document.createElementNS(svgNS, "polyline");
    path.setAttribute("points", axes.map((axis, i) => `${x(i)},${scales[i](valueOf(trial, axis))}`).join(" "));
    path.setAttribute("fill", "none");
    const best = trial.name === tuning.best_job;
    path.setAttribute("stroke", best ? "#17693b" : trial.early_stopped ? "#c9a23a" : "#2f6fde");
    path.setAttribute("stroke-width", best ? 3 : 1.2);
    path.setAttribute("opacity", best ? 1 : 0.6);
    path.dataset.trial = trial.name;
    svg.appendChild(path);
  }
  container.innerHTML = "";
  if (!scored.length) container.textContent = "No scored trial yet.";
  else container.appendChild(svg);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(keepLive);
  document.querySelectorAll("pre[data-log]").forEach(followLog);
  document.querySelectorAll("[data-metrics]").forEach(drawMetrics);
  document.querySelectorAll("[data-best]").forEach(drawBest);
});
