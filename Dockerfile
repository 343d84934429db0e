# fogbank in a container: build on Debian 12, run on a slim Debian 12.
FROM debian:12 AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh build
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOGBANK_TESTS=OFF \
 && cmake --build build --target fogbank \
 && strip build/server/fogbank

FROM debian:12-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libssl3 libisal2 libnghttp2-14 libstdc++6 libsnappy1v5 liblz4-1 libzstd1 libbz2-1.0 zlib1g \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/server/fogbank /usr/local/bin/fogbank
VOLUME /data
EXPOSE 4566 1338
# Listen on every interface inside the container; publish the ports to reach it.
ENTRYPOINT ["fogbank", "--host", "0.0.0.0", "--data-dir", "/data", "--imds-address", "0.0.0.0:1338"]
