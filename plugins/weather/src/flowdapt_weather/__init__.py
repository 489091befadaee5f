"""Adaptive weather nowcasting for many cities: the example Flowdapt plugin.

Its resources (``resources/*.yaml``: workflows, the config, trigger rules) are bundled with the
package; the server lists and serves them at ``/plugin/weather/files`` and
``flowctl apply --plugin weather`` installs them. The stages are plain functions
(:mod:`flowdapt_weather.stages`); synthetic, deterministic weather data stands in for a download
(:mod:`flowdapt_weather.data`).
"""

__version__ = "0.1.0"
