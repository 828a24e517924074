# The grading image: Python, PyTorch, TensorFlow/Keras, nbclient/ipykernel and the
# in-sandbox part of nngrade (the agent that executes a notebook and the probe that
# measures its models). It holds no hidden data, no expected values, no graders and no
# reference solutions: those stay on the host, which scores (see .dockerignore).
#
# Build it with `nngrade image build` (README: "The grading image"). By hand:
#   docker build -t nngrade-grader .
#   docker build --build-arg BASE=nngrade-base:bookworm \
#                --build-arg TENSORFLOW=tensorflow-cpu==2.21.0 -t nngrade-grader .
#
# BASE: NVIDIA's CUDA runtime image with cuDNN, so TensorFlow finds the CUDA libraries it
# loads at run time and the NVIDIA container toolkit mounts the host's driver into it;
# PyTorch's wheels bring their own CUDA runtime. Any Debian or Ubuntu image works as a
# base (CPU-only ones too), e.g. the local Debian base that image/debian-base.sh builds.
ARG BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
FROM ${BASE}

# TENSORFLOW: the TensorFlow requirement; `tensorflow[and-cuda]` adds the CUDA
# libraries TensorFlow needs on a GPU, `tensorflow-cpu` is smaller for CPU-only hosts.
ARG TENSORFLOW=tensorflow[and-cuda]==2.21.0
# Extra pip options; `nngrade image build --wheelhouse` sets them to install from a
# folder of wheels that the host serves, for hosts that reach no package index.
ARG PIP_OPTIONS=""
ARG TF_KERAS=tf-keras==2.21.0
ARG NNGRADE_VERSION=dev

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# What a notebook may import: the same pinned list the local sandbox's student environment
# is made from (runner/sandbox/student_env.py), so both sandboxes run the same versions.
COPY image/requirements.txt /tmp/requirements.txt
# tf-keras serves Keras 2 style code (TF_USE_LEGACY_KERAS=1); it asks for the package
# `tensorflow` by name, which `tensorflow-cpu` provides under another name: no deps.
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir ${PIP_OPTIONS} -r /tmp/requirements.txt "${TENSORFLOW}" \
 && /opt/venv/bin/pip install --no-cache-dir ${PIP_OPTIONS} --no-deps "${TF_KERAS}" \
 && rm /tmp/requirements.txt

COPY runner/probe /opt/nngrade/nngrade_probe

# uid 1500 runs nothing of the student's: it owns the read-only part of each job.
# Student code runs under a separate, per-job uid chosen by the Docker backend.
RUN (getent group 1500 || groupadd --gid 1500 nngrade) \
 && (getent passwd 1500 || useradd --uid 1500 --gid 1500 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin nngrade)

ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin \
    PYTHONPATH=/opt/nngrade \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLBACKEND=Agg \
    TF_CPP_MIN_LOG_LEVEL=2
LABEL org.nngrade.image="grader" org.nngrade.version="${NNGRADE_VERSION}"
USER 1500:1500
WORKDIR /
CMD ["sleep", "infinity"]
