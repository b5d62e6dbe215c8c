"""Detections beyond proximity, run inside the encounter detector, and the risk score.

- `segments`: an MMSI's positions split into tracks a ship could sail (identity_conflict,
  position_jump) before the encounter detector sees them, and the silences of the main
  track (ais_gap);
- `dark`: a vessel that goes silent next to a slow vessel (dark_sts);
- `identity_history`: names, call signs, IMOs and MMSIs over time (identity_change);
- `risk` (with `solar`): the 0-100 score every alert carries;
- `watchlists`: lists of vessels matched by IMO, MMSI, call sign and name;
- `monitor`: the object `detectors.engine.EncounterDetector` calls at each tick.

Everything here is pure: values in, decisions out, event time only.
"""
