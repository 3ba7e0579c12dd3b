// The map, offline: no tile server. It draws the PSAP boundaries that ng911-psap publishes
// (GET /api/boundaries, from PostGIS) and the caller's position with the uncertainty shape
// computed by the server from the PIDF-LO (circle, ellipse, arc band as polygons; a point).
import 'leaflet/dist/leaflet.css';
import L from 'leaflet';
import type { Location } from './types';

export class CallMap {
  private readonly map: L.Map;
  private readonly boundaries = L.geoJSON(undefined, {
    style: { color: '#1d4e89', weight: 2, fillColor: '#9ec3ea', fillOpacity: 0.25 },
    onEachFeature: (f, layer) => {
      const p = (f.properties ?? {}) as Record<string, string>;
      layer.bindTooltip(p.name || p.service_uri || 'PSAP boundary', { sticky: true });
    },
  });
  private caller: L.LayerGroup = L.layerGroup();
  private boundaryBounds: L.LatLngBounds | null = null;

  constructor(readonly container: HTMLElement, private readonly describe: (text: string) => void) {
    this.map = L.map(container, {
      attributionControl: true,
      zoomControl: true,
      keyboard: true,
      zoomSnap: 0.25,
      center: [39.5, -98.35],
      zoom: 4,
    });
    this.map.attributionControl.setPrefix(false).addAttribution('PSAP boundaries: NENA GIS data (ng911-psap)');
    this.boundaries.addTo(this.map);
    this.caller.addTo(this.map);
  }

  setBoundaries(collection: GeoJSON.FeatureCollection): void {
    this.boundaries.clearLayers();
    this.boundaries.addData(collection);
    const b = this.boundaries.getBounds();
    this.boundaryBounds = b.isValid() ? b : null;
    if (this.boundaryBounds && this.caller.getLayers().length === 0) this.map.fitBounds(this.boundaryBounds, { padding: [20, 20] });
  }

  // The caller's position and uncertainty; null clears it.
  showCaller(location: Location | undefined | null): void {
    this.caller.clearLayers();
    if (!location || location.lat === undefined || location.lon === undefined) {
      this.describe(location?.address ? `No coordinates; civic address ${location.address}` : 'No caller position');
      if (this.boundaryBounds) this.map.fitBounds(this.boundaryBounds, { padding: [20, 20] });
      return;
    }
    const shape = location.geojson && location.geojson.type !== 'Point'
      ? L.geoJSON(location.geojson, { style: { color: '#b3261e', weight: 2, fillColor: '#f2b8b5', fillOpacity: 0.35 } })
      : null;
    if (shape) this.caller.addLayer(shape);
    const point = L.circleMarker([location.lat, location.lon], {
      radius: 7, color: '#ffffff', weight: 2, fillColor: '#b3261e', fillOpacity: 1,
    }).bindTooltip('Caller', { permanent: false });
    this.caller.addLayer(point);
    const bounds = shape ? shape.getBounds() : L.latLngBounds([[location.lat, location.lon], [location.lat, location.lon]]);
    this.map.fitBounds(bounds.pad(3), { maxZoom: 16 });
    const unc = location.uncertainty_m !== undefined ? `, uncertainty ${location.uncertainty_m} m` : '';
    this.describe(`Caller at ${location.lat.toFixed(5)}, ${location.lon.toFixed(5)} (${location.shape ?? 'point'}${unc})`);
  }

  // Leaflet measures its container once; after the layout changes it must measure again.
  resize(): void {
    this.map.invalidateSize();
  }

  focus(): void {
    this.container.focus();
  }
}
