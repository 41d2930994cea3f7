/* The service map (服务地图, R-MAP-1) of the activity listing: the activities of this page that have
   coordinates, as markers whose popup gives the title, the time and a link. The markers come from the
   JSON block #service-map-data written by the page; titles are put in as text (textContent), never as
   HTML. The map is an enhancement: without Leaflet, without tiles or without markers the list below is
   the page, and nothing here throws. Also the "Nearest to me" button: the browser's position, then the
   listing sorted by distance (sort=nearest&lat=…&lng=…). */
(function () {
  'use strict';
  var el = document.getElementById('service-map');
  var data = document.getElementById('service-map-data');

  var nearest = document.getElementById('service-map-nearest');
  if (nearest && navigator.geolocation) {
    nearest.hidden = false;
    nearest.addEventListener('click', function () {
      nearest.disabled = true;
      navigator.geolocation.getCurrentPosition(function (p) {
        var u = new URL(window.location.href);
        u.searchParams.set('sort', 'nearest');
        u.searchParams.set('lat', p.coords.latitude.toFixed(5));
        u.searchParams.set('lng', p.coords.longitude.toFixed(5));
        u.searchParams.delete('page');
        window.location.assign(u.toString());
      }, function () { nearest.disabled = false; }, {timeout: 10000, maximumAge: 300000});
    });
  }

  if (!el || !data || !window.L) { return; }
  var markers;
  try { markers = JSON.parse(data.textContent || '[]'); } catch (e) { return; }
  if (!Array.isArray(markers) || !markers.length) { return; }

  function text(tag, className, value) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    node.textContent = value == null ? '' : String(value);
    return node;
  }

  function popup(m) {
    var box = document.createElement('div');
    box.className = 'service-map-popup';
    box.appendChild(text('strong', 'service-map-title', m.title));
    box.appendChild(document.createElement('br'));
    box.appendChild(text('span', 'service-map-when', m.when));
    box.appendChild(document.createElement('br'));
    var a = text('a', 'service-map-link', el.getAttribute('data-open-label') || m.title);
    if (typeof m.url === 'string' && m.url.charAt(0) === '/' && m.url.charAt(1) !== '/') { a.href = m.url; }
    box.appendChild(a);
    return box;
  }

  // Leaflet's own control labels are English: the page gives them in the reader's language
  var map = L.map(el, {scrollWheelZoom: false, attributionControl: true, zoomControl: false});
  L.control.zoom({zoomInTitle: el.getAttribute('data-zoom-in') || '+',
                  zoomOutTitle: el.getAttribute('data-zoom-out') || '-'}).addTo(map);
  var closeLabel = el.getAttribute('data-close-label');
  map.on('popupopen', function (e) {
    var close = closeLabel && e.popup.getElement() && e.popup.getElement().querySelector('.leaflet-popup-close-button');
    if (close) { close.setAttribute('aria-label', closeLabel); }
  });
  map.attributionControl.setPrefix('Leaflet');
  var tiles = el.getAttribute('data-tiles');
  if (tiles) {
    // the attribution is the site's own setting; Leaflet writes it as HTML, so it goes in escaped
    var credit = text('span', '', el.getAttribute('data-attribution') || '').innerHTML;
    L.tileLayer(tiles, {maxZoom: 18, attribution: credit}).addTo(map);
  }
  var points = [];
  markers.forEach(function (m) {
    var lat = Number(m.lat), lng = Number(m.lng);
    if (!isFinite(lat) || !isFinite(lng)) { return; }
    L.marker([lat, lng], {title: String(m.title == null ? '' : m.title), alt: String(m.title == null ? '' : m.title)})
      .bindPopup(popup(m)).addTo(map);
    points.push([lat, lng]);
  });
  if (points.length === 1) { map.setView(points[0], 15); }
  else if (points.length) { map.fitBounds(points, {padding: [24, 24], maxZoom: 16}); }
  else { map.setView([23.13, 113.26], 11); }  // Guangzhou
})();
