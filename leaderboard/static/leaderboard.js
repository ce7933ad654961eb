// Evoxtral-Bench leaderboard: sort each track's table by any column and filter the rows of
// every table. The page is complete without this script; it only adds sorting and filtering.
"use strict";

(function () {
  const tables = Array.from(document.querySelectorAll("table.board"));
  if (!tables.length) {
    return;
  }
  tables.forEach(sortable);

  // One table's column sorting: each header sorts the rows of its own table only.
  function sortable(table) {
    const bodies = Array.from(table.querySelectorAll("tbody.rows"));
    const headers = Array.from(table.querySelectorAll("thead th[data-sort]"));

    // Original order: ties in a sort keep it, so the rank order survives re-sorting.
    bodies.forEach(function (body) {
      Array.from(body.rows).forEach(function (row, i) {
        row.dataset.order = String(i);
      });
    });

    function key(row, column, numeric) {
      const cell = row.cells[column];
      const raw = cell ? cell.dataset.value : undefined;
      if (raw === undefined || raw === "") {
        return null;
      }
      return numeric ? Number(raw) : raw.toLowerCase();
    }

    function sortBy(th) {
      const column = Array.prototype.indexOf.call(th.parentNode.children, th);
      const numeric = th.dataset.sort === "num";
      const current = th.getAttribute("aria-sort");
      let direction = th.dataset.first || "ascending";
      if (current === "ascending") {
        direction = "descending";
      } else if (current === "descending") {
        direction = "ascending";
      }
      const sign = direction === "ascending" ? 1 : -1;
      bodies.forEach(function (body) {
        const rows = Array.from(body.rows).filter(function (row) { return row.dataset.slug; });
        rows.sort(function (a, b) {
          const ka = key(a, column, numeric);
          const kb = key(b, column, numeric);
          if (ka === null || kb === null) {
            // missing values (not reported) always go last
            if (ka !== kb) {
              return ka === null ? 1 : -1;
            }
          } else if (ka < kb) {
            return -sign;
          } else if (ka > kb) {
            return sign;
          }
          return Number(a.dataset.order) - Number(b.dataset.order);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
      headers.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", direction);
    }

    headers.forEach(function (th) {
      const button = th.querySelector("button");
      button.addEventListener("click", function () { sortBy(th); });
    });
  }

  const form = document.getElementById("filters");
  const shown = document.getElementById("shown");
  function applyFilters() {
    const kinds = Array.from(form.querySelectorAll('input[name="kind"]:checked')).map(function (box) { return box.value; });
    const size = form.elements.size.value;
    let visible = 0;
    let total = 0;
    document.querySelectorAll("table.board tbody.rows").forEach(function (body) {
      const kindShown = kinds.indexOf(body.dataset.kind) >= 0;
      const section = body.parentNode.querySelector('tbody.section[data-kind="' + body.dataset.kind + '"]');
      let inSection = 0;
      let entries = 0;
      Array.from(body.rows).forEach(function (row) {
        if (!row.dataset.slug) {
          row.hidden = !kindShown;
          return;
        }
        total += 1;
        entries += 1;
        const keep = kindShown && (size === "all" || row.dataset.size === size);
        row.hidden = !keep;
        inSection += keep ? 1 : 0;
      });
      visible += inSection;
      // a section whose rows are all filtered out loses its header too (an empty section's
      // "no entries" line stays visible while its kind is shown and no size is chosen)
      const empty = entries > 0 ? inSection === 0 : !kindShown || size !== "all";
      section.hidden = empty;
      body.hidden = empty;
    });
    shown.textContent = "showing " + visible + " of " + total + " rows";
  }
  form.addEventListener("change", applyFilters);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.hidden = false;
  applyFilters();
})();
