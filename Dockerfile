# The grading image: Python, PyTorch, TensorFlow/Keras, nbclient/ipykernel and the
# in-sandbox part of nngrade (agent and probe). It holds no hidden data, no expected
# values and no reference solutions: those stay on the host, which scores.
#
#   docker build -t nngrade .                                   # CPU
#   docker build --build-arg BASE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 -t nngrade-gpu .
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=2
RUN python3 -m pip install \
      "torch>=2.2" "torchvision>=0.17" "tensorflow>=2.16" \
      "nbclient>=0.10" "nbformat>=5.9" "ipykernel>=6.29" numpy matplotlib

COPY runner/probe /opt/nngrade/nngrade_probe
ENV PYTHONPATH=/opt/nngrade

RUN useradd --create-home --uid 1000 student
USER student
WORKDIR /home/student
ENTRYPOINT ["python3", "-m", "nngrade_probe.agent"]
