// Builds the sample PSAP boundaries: one PsapPolygon per US county (or equivalent) from the
// us-atlas TopoJSON (US Census cartographic boundaries, 1:10m), written as GeoJSON with the
// NENA GIS Data Model fields that `ng911-gis load --layer PsapPolygon` expects.
// The PSAP queue URIs are made up: sip:psap-<5-digit county FIPS>@psap.example.net.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { feature } from 'topojson-client';

const require = createRequire(import.meta.url);
const out = process.argv[2];
if (!out) {
  console.error('usage: node make-us-counties.mjs OUTPUT.geojson');
  process.exit(2);
}

// USPS codes by state FIPS; us-atlas carries only names.
const USPS = {
  '01': 'AL', '02': 'AK', '04': 'AZ', '05': 'AR', '06': 'CA', '08': 'CO', '09': 'CT', '10': 'DE',
  '11': 'DC', '12': 'FL', '13': 'GA', '15': 'HI', '16': 'ID', '17': 'IL', '18': 'IN', '19': 'IA',
  '20': 'KS', '21': 'KY', '22': 'LA', '23': 'ME', '24': 'MD', '25': 'MA', '26': 'MI', '27': 'MN',
  '28': 'MS', '29': 'MO', '30': 'MT', '31': 'NE', '32': 'NV', '33': 'NH', '34': 'NJ', '35': 'NM',
  '36': 'NY', '37': 'NC', '38': 'ND', '39': 'OH', '40': 'OK', '41': 'OR', '42': 'PA', '44': 'RI',
  '45': 'SC', '46': 'SD', '47': 'TN', '48': 'TX', '49': 'UT', '50': 'VT', '51': 'VA', '53': 'WA',
  '54': 'WV', '55': 'WI', '56': 'WY', '60': 'AS', '66': 'GU', '69': 'MP', '72': 'PR', '78': 'VI',
};

const topology = JSON.parse(readFileSync(require.resolve('us-atlas/counties-10m.json'), 'utf8'));
const stateNames = new Map(
  topology.objects.states.geometries.map((g) => [g.id, g.properties.name]));
const counties = feature(topology, topology.objects.counties).features;

// A fixed DateUpdate keeps the output byte-identical between runs (the loader skips a file it
// has already published).
const dateUpdate = '2026-01-01T00:00:00Z';
// Twice the planar area of a ring (shoelace), enough to tell a polygon from a collapsed one.
const ringArea = (ring) => ring.reduce(
  (sum, [x, y], i) => sum + x * ring[(i + 1) % ring.length][1] - ring[(i + 1) % ring.length][0] * y, 0);
const polygons = (g) => (g.type === 'Polygon' ? [g.coordinates] : g.coordinates);
const hasArea = (g) => g && polygons(g).some((p) => Math.abs(ringArea(p[0])) > 0);

// At the 1:10,000,000 scale of us-atlas the smallest independent cities collapse to lines;
// their neighbours cover their ground, so routing has no hole there. Say which, then skip them.
const collapsed = counties.filter((c) => !hasArea(c.geometry));
for (const c of collapsed) {
  console.log(`skipping county ${c.id} (${c.properties.name}): no area at the 1:10m scale of us-atlas`);
}

const features = counties.filter((c) => hasArea(c.geometry)).map((c) => {
  const fips = c.id;
  const st = USPS[fips.slice(0, 2)];
  if (!st) throw new Error(`county ${fips}: unknown state FIPS ${fips.slice(0, 2)}`);
  const stateName = stateNames.get(fips.slice(0, 2)) ?? st;
  return {
    type: 'Feature',
    properties: {
      DiscrpAgID: 'gis.example.net',
      DateUpdate: dateUpdate,
      ES_NGUID: `urn:emergency:uid:gis:PSAP:${fips}:psap.example.net`,
      State: st,
      Agency_ID: `psap-${fips}.psap.example.net`,
      ServiceURI: `sip:psap-${fips}@psap.example.net`,
      ServiceURN: 'urn:emergency:service:sos.psap',
      ServiceNum: '911',
      DsplayName: `${c.properties.name}, ${stateName} PSAP`,
      CountyFIPS: fips,
    },
    geometry: c.geometry,
  };
});

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ type: 'FeatureCollection', features }));
console.log(`wrote ${features.length} county PSAP boundaries to ${out}`);
