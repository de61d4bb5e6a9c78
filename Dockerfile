# GPU image for training on CUDA machines (e.g. an RTX-3090). Build and run:
#   docker build -t sleep_kd .
#   docker run --gpus all -v $PWD/runs:/app/runs sleep_kd --strategy feat_temp --mixed-precision fp16
#   docker run --gpus all --entrypoint sleep-kd sleep_kd --help    (the sleep-kd command)
# The base image already holds torch 2.13.0 built for CUDA, which satisfies requirements.txt.
FROM pytorch/pytorch:2.13.0-cuda12.8-cudnn9-runtime
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# The package itself (the sleep-kd command), editable: it reads configs/ from this checkout.
RUN pip install --no-cache-dir --no-deps -e .
ENTRYPOINT ["accelerate", "launch", "train_loop.py"]
CMD ["--strategy", "feat_temp"]
