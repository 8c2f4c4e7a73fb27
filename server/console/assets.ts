/**
 * The console's two assets, served by the endpoint itself: a small
 * stylesheet and a small script (sorting by a column, refresh every 30 s,
 * copying a command). The pages read and work without the script.
 *
 * @module
 */

/** The stylesheet. */
export const CSS = `
:root{--fg:#1d232b;--muted:#6b7480;--line:#d9dee5;--bg:#fff;--head:#f3f5f8;--accent:#2f6db3;
--bad:#b3261e;--badbg:#fde8e6;--warn:#8a5a00;--warnbg:#fff4d6;--ok:#1e7b34}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.6rem 1rem;background:#17212e;color:#fff}
header a{color:#cfe0f5;text-decoration:none;padding:.15rem .35rem;border-radius:4px}
header a[aria-current=page]{background:#2f4a6b;color:#fff}
header nav{display:flex;flex-wrap:wrap;gap:.25rem}
.brand{font-weight:600}
.signout{margin-left:auto;display:flex;gap:.5rem;align-items:center}
.who{color:#cfe0f5;font-size:12px}
main{padding:1rem;max-width:1400px}
h1{font-size:1.35rem;margin:.2rem 0 .8rem}
h2{font-size:1.05rem;margin:1.3rem 0 .5rem}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%}
th,td{padding:.4rem .55rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600;white-space:nowrap}
table.sortable th{cursor:pointer}
tr:last-child td{border-bottom:0}
ul.versions{margin:0;padding:0;list-style:none}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:#f1f3f6;padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere}
.stage{display:inline-block;font-size:11px;padding:0 .35rem;border-radius:8px;background:#e6ecf3;margin-right:.2rem}
.stage-current{background:#dcefe1;color:var(--ok)}
.stage-previous{background:var(--warnbg);color:var(--warn)}
.stage-pending{background:#e8e3f6}
.muted{color:var(--muted)}
.due{white-space:nowrap}
.due.soon{background:var(--warnbg);color:var(--warn);font-weight:600}
.due.overdue{background:var(--badbg);color:var(--bad);font-weight:700}
.overdue-count{color:var(--bad);font-weight:600}
.row-down td{background:var(--badbg)}
.row-previous td{background:var(--warnbg)}
.ok{color:var(--ok)}
.bad{color:var(--bad);font-weight:600}
.warn{color:var(--warn);font-weight:600}
.problem{background:var(--badbg);color:var(--bad);padding:.5rem .7rem;border-radius:6px}
.note{background:#e6ecf3;padding:.5rem .7rem;border-radius:6px}
form.filter,form.signin{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-bottom:.7rem}
form.signin{flex-direction:column;align-items:stretch;max-width:28rem}
input[type=text],input[type=password]{padding:.35rem .5rem;border:1px solid var(--line);border-radius:4px;font:inherit}
button{font:inherit;padding:.3rem .7rem;border:1px solid #9fb3c8;border-radius:4px;background:#eef3f9;cursor:pointer}
.sortby{color:var(--muted)}
details.rotation{border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem;margin-bottom:.6rem}
details.rotation summary{cursor:pointer}
.phase{font-size:11px;padding:0 .4rem;border-radius:8px;background:#e6ecf3}
.phase-failed{background:var(--badbg);color:var(--bad)}
.phase-running{background:var(--warnbg);color:var(--warn)}
.phase-completed{background:#dcefe1;color:var(--ok)}
.st-failed td{color:var(--bad)}
.cmd{margin:.35rem 0;display:flex;gap:.4rem;align-items:center;flex-wrap:wrap}
dl.verify{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dl.verify dt{color:var(--muted)}
dl.verify dd{margin:0}
svg.chart{vertical-align:middle;background:#f5f7fa}
footer{padding:.5rem 1rem;color:var(--muted);font-size:12px}
details.rot-failed{border-color:#e4a9a4}
@media (max-width:600px){main{padding:.6rem}.signout{margin-left:0}
table.cards thead{display:none}
table.cards tr{display:block;border-bottom:1px solid var(--line);padding:.35rem 0}
table.cards tr:last-child{border-bottom:0}
table.cards td{display:flex;gap:.6rem;border:0;padding:.12rem .55rem}
table.cards td::before{content:attr(data-label);flex:0 0 7.2rem;color:var(--muted);font-weight:600}}
`;

/** The script: sorting, refresh, copy. Loaded with the page's CSP nonce. */
export const JS = `"use strict";
(function(){
  function key(td){var v=td.getAttribute("data-sort");if(v!==null&&v!==""&&!isNaN(+v))return +v;return td.textContent.trim().toLowerCase();}
  document.querySelectorAll("table.sortable").forEach(function(table){
    table.querySelectorAll("thead th").forEach(function(th,i){
      th.addEventListener("click",function(){
        var asc=th.getAttribute("aria-sort")!=="ascending";
        table.querySelectorAll("thead th").forEach(function(o){o.removeAttribute("aria-sort");});
        th.setAttribute("aria-sort",asc?"ascending":"descending");
        var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);return (x<y?-1:x>y?1:0)*(asc?1:-1);});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
  document.querySelectorAll("button.copy").forEach(function(b){
    b.addEventListener("click",function(){
      var t=b.getAttribute("data-copy")||"";
      if(navigator.clipboard){navigator.clipboard.writeText(t).then(function(){b.textContent="copied";},function(){});}
    });
  });
  var box=document.getElementById("auto-refresh");
  if(box){
    box.checked=sessionStorage.getItem("kw-refresh")==="1";
    var timer=null;
    var arm=function(){if(timer)clearTimeout(timer);timer=box.checked?setTimeout(function(){location.reload();},30000):null;};
    box.addEventListener("change",function(){sessionStorage.setItem("kw-refresh",box.checked?"1":"0");arm();});
    arm();
  }
})();
`;

/** The icon (so a browser does not ask for /favicon.ico). */
export const ICON =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#17212e"/><path d="M5 4v8M5 8l5-4M5 8l5 4" stroke="#cfe0f5" stroke-width="2" fill="none"/></svg>`;
