"""Input decoding: NMEA AIS, NOAA MarineCadastre CSV and stswatch JSON Lines to records.

- `nmea.NmeaDecoder`: the one NMEA decoder, used offline and by the stream.
- `inputs.read_inputs`: several files of any format merged in event-time order.
- `marinecadastre`, `jsonl`: the other formats (`jsonl` also writes the published schema).
- `stats.DecodeStats`: what happened to every line.
"""
