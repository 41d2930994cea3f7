/* The evaluation indicators dashboard (R-INC-3): two charts from the page's JSON block, drawn with the
   vendored Apache ECharts (static/vendor/echarts). No inline script: the CSP allows the site's files. */
(function () {
  var el = document.getElementById('tb-indicator-data');
  if (!el || !window.echarts) { return; }
  var d = JSON.parse(el.textContent);
  function draw(id, option) {
    var box = document.getElementById(id);
    if (!box) { return; }
    var chart = window.echarts.init(box, null, {renderer: 'canvas'});
    chart.setOption(option);
    window.addEventListener('resize', function () { chart.resize(); });
  }
  var pctName = el.getAttribute('data-value-label'), targetName = el.getAttribute('data-target-label');
  draw('tb-chart-pct', {
    animation: false, tooltip: {}, legend: {data: [pctName, targetName]},
    xAxis: {type: 'category', data: d.pct.labels, axisLabel: {interval: 0}},
    yAxis: {type: 'value', max: 100},
    series: [{name: pctName, type: 'bar', data: d.pct.values},
             {name: targetName, type: 'line', data: d.pct.targets}]
  });
  draw('tb-chart-counts', {
    animation: false, tooltip: {}, grid: {left: 160},
    xAxis: {type: 'value'}, yAxis: {type: 'category', data: d.counts.labels},
    series: [{type: 'bar', data: d.counts.values}]
  });
}());
